#include "cargovision/models/winograd.h"

#include "cargovision/core/intra_op_parallel.h"

#include <algorithm>
#include <array>
#include <vector>

namespace cargovision::models {
namespace {

// F(4x4,3x3) at the points 0, 1, -1, 2, -2 and infinity (Lavin & Gray, 2016). Y = A^T [(G g G^T) . (B^T d B)] A.
constexpr int64_t kTile = 4;        // output tile edge
constexpr int64_t kInputTile = 6;   // input tile edge
constexpr int64_t kPoints = kInputTile * kInputTile;

// The transforms run on many tiles at once: element q of every array below belongs to tile q of a chunk, so each
// formula is a loop the compiler vectorises, built for AVX-512, AVX2 and baseline x86-64 and picked per CPU.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CARGOVISION_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CARGOVISION_VECTOR_CLONES
#endif

constexpr int64_t kChunk = 256;  // tiles per step: 36 rows of a chunk stay in L2

// B^T: six arrays in, six out.
CARGOVISION_VECTOR_CLONES void apply_bt(const float* const* in, float* const* out, int64_t count) {
  const float *d0 = in[0], *d1 = in[1], *d2 = in[2], *d3 = in[3], *d4 = in[4], *d5 = in[5];
  float *o0 = out[0], *o1 = out[1], *o2 = out[2], *o3 = out[3], *o4 = out[4], *o5 = out[5];
#pragma GCC ivdep
  for (int64_t q = 0; q < count; ++q) {
    const float a0 = d0[q], a1 = d1[q], a2 = d2[q], a3 = d3[q], a4 = d4[q], a5 = d5[q];
    o0[q] = 4.f * a0 - 5.f * a2 + a4;
    o1[q] = -4.f * (a1 + a2) + a3 + a4;
    o2[q] = 4.f * (a1 - a2) - a3 + a4;
    o3[q] = 2.f * (a3 - a1) - a2 + a4;
    o4[q] = 2.f * (a1 - a3) - a2 + a4;
    o5[q] = 4.f * a1 - 5.f * a3 + a5;
  }
}

// B (the transpose of B^T): six in, six out; for the input gradient.
CARGOVISION_VECTOR_CLONES void apply_b(const float* const* in, float* const* out, int64_t count) {
  const float *v0 = in[0], *v1 = in[1], *v2 = in[2], *v3 = in[3], *v4 = in[4], *v5 = in[5];
  float *o0 = out[0], *o1 = out[1], *o2 = out[2], *o3 = out[3], *o4 = out[4], *o5 = out[5];
#pragma GCC ivdep
  for (int64_t q = 0; q < count; ++q) {
    const float a0 = v0[q], a1 = v1[q], a2 = v2[q], a3 = v3[q], a4 = v4[q], a5 = v5[q];
    o0[q] = 4.f * a0;
    o1[q] = -4.f * a1 + 4.f * a2 - 2.f * a3 + 2.f * a4 + 4.f * a5;
    o2[q] = -5.f * a0 - 4.f * a1 - 4.f * a2 - a3 - a4;
    o3[q] = a1 - a2 + 2.f * a3 - 2.f * a4 - 5.f * a5;
    o4[q] = a0 + a1 + a2 + a3 + a4;
    o5[q] = a5;
  }
}

// A^T: six in, four out.
CARGOVISION_VECTOR_CLONES void apply_at(const float* const* in, float* const* out, int64_t count) {
  const float *m0 = in[0], *m1 = in[1], *m2 = in[2], *m3 = in[3], *m4 = in[4], *m5 = in[5];
  float *o0 = out[0], *o1 = out[1], *o2 = out[2], *o3 = out[3];
#pragma GCC ivdep
  for (int64_t q = 0; q < count; ++q) {
    const float sum12 = m1[q] + m2[q], diff12 = m1[q] - m2[q], sum34 = m3[q] + m4[q], diff34 = m3[q] - m4[q];
    o0[q] = m0[q] + sum12 + sum34;
    o1[q] = diff12 + 2.f * diff34;
    o2[q] = sum12 + 4.f * sum34;
    o3[q] = diff12 + 8.f * diff34 + m5[q];
  }
}

// A (the transpose of A^T): four in, six out; for both gradients.
CARGOVISION_VECTOR_CLONES void apply_a(const float* const* in, float* const* out, int64_t count) {
  const float *y0 = in[0], *y1 = in[1], *y2 = in[2], *y3 = in[3];
  float *o0 = out[0], *o1 = out[1], *o2 = out[2], *o3 = out[3], *o4 = out[4], *o5 = out[5];
#pragma GCC ivdep
  for (int64_t q = 0; q < count; ++q) {
    const float a0 = y0[q], a1 = y1[q], a2 = y2[q], a3 = y3[q];
    o0[q] = a0;
    o1[q] = a0 + a1 + a2 + a3;
    o2[q] = a0 - a1 + a2 - a3;
    o3[q] = a0 + 2.f * a1 + 4.f * a2 + 8.f * a3;
    o4[q] = a0 - 2.f * a1 + 4.f * a2 - 8.f * a3;
    o5[q] = a3;
  }
}

constexpr float kQuarter = 1.f / 4, kSixth = 1.f / 6, kTwelfth = 1.f / 12, kTwentyFourth = 1.f / 24;

// G: three in, six out.
CARGOVISION_VECTOR_CLONES void apply_g(const float* const* in, float* const* out, int64_t count) {
  const float *g0 = in[0], *g1 = in[1], *g2 = in[2];
  float *o0 = out[0], *o1 = out[1], *o2 = out[2], *o3 = out[3], *o4 = out[4], *o5 = out[5];
#pragma GCC ivdep
  for (int64_t q = 0; q < count; ++q) {
    const float a0 = g0[q], a1 = g1[q], a2 = g2[q];
    o0[q] = a0 * kQuarter;
    o1[q] = -(a0 + a1 + a2) * kSixth;
    o2[q] = -(a0 - a1 + a2) * kSixth;
    o3[q] = a0 * kTwentyFourth + a1 * kTwelfth + a2 * kSixth;
    o4[q] = a0 * kTwentyFourth - a1 * kTwelfth + a2 * kSixth;
    o5[q] = a2;
  }
}

// G^T: six in, three out; for the weight gradient.
CARGOVISION_VECTOR_CLONES void apply_gt(const float* const* in, float* const* out, int64_t count) {
  const float *u0 = in[0], *u1 = in[1], *u2 = in[2], *u3 = in[3], *u4 = in[4], *u5 = in[5];
  float *o0 = out[0], *o1 = out[1], *o2 = out[2];
#pragma GCC ivdep
  for (int64_t q = 0; q < count; ++q) {
    const float a0 = u0[q], a1 = u1[q], a2 = u2[q], a3 = u3[q], a4 = u4[q], a5 = u5[q];
    o0[q] = a0 * kQuarter - (a1 + a2) * kSixth + (a3 + a4) * kTwentyFourth;
    o1[q] = (a2 - a1) * kSixth + (a3 - a4) * kTwelfth;
    o2[q] = (a3 + a4 - a1 - a2) * kSixth + a5;
  }
}

// A two-sided transform X -> L X R^T of `rows_in` x `cols_in` tiles, stored as rows_in * cols_in arrays
// (element (r, c) at r * cols_in + c), through a scratch of rows_out * cols_in arrays.
template <typename Left, typename Right>
void two_sided(Left left, Right right, const float* const* in, int64_t rows_in, int64_t cols_in, float* const* scratch,
               int64_t rows_out, float* const* out, int64_t cols_out, int64_t count) {
  const float* column_in[6];
  float* column_out[6];
  for (int64_t c = 0; c < cols_in; ++c) {  // down the columns
    for (int64_t r = 0; r < rows_in; ++r) column_in[r] = in[r * cols_in + c];
    for (int64_t r = 0; r < rows_out; ++r) column_out[r] = scratch[r * cols_in + c];
    left(column_in, column_out, count);
  }
  for (int64_t r = 0; r < rows_out; ++r) right(scratch + r * cols_in, out + r * cols_out, count);  // along the rows
}

// Per-thread arrays of one chunk, kPoints rows of kChunk floats each, and their row pointers.
struct ChunkArrays {
  std::vector<float> storage;
  std::vector<float*> rows;
  explicit ChunkArrays(int64_t count) : storage(count * kChunk), rows(count) {
    for (int64_t i = 0; i < count; ++i) rows[i] = storage.data() + i * kChunk;
  }
};

// Where tile p of a chunk sits: image n, tile row th, tile column tw.
struct TileCursor {
  int64_t n, th, tw;
  TileCursor(int64_t p, int64_t tiles_h, int64_t tiles_w)
      : n(p / (tiles_h * tiles_w)), th(p / tiles_w % tiles_h), tw(p % tiles_w) {}
  void next(int64_t tiles_h, int64_t tiles_w) {
    if (++tw < tiles_w) return;
    tw = 0;
    if (++th < tiles_h) return;
    th = 0;
    ++n;
  }
};

struct Geometry {
  int64_t batch, in_channels, height, width, pad_h, pad_w, out_h, out_w, tiles_h, tiles_w;
  int64_t tiles() const { return batch * tiles_h * tiles_w; }
  int64_t chunks() const { return (tiles() + kChunk - 1) / kChunk; }
};

Geometry geometry_of(int64_t batch, int64_t channels, int64_t height, int64_t width, int64_t pad_h, int64_t pad_w) {
  Geometry g{batch, channels, height, width, pad_h, pad_w, height + 2 * pad_h - 2, width + 2 * pad_w - 2, 0, 0};
  g.tiles_h = (g.out_h + kTile - 1) / kTile;
  g.tiles_w = (g.out_w + kTile - 1) / kTile;
  return g;
}

// Runs body(channel, first tile, tile count) over every (channel, chunk) pair, in parallel. Each pair writes its
// own stretch of the 36 rows of a [36, channels, tiles] tensor, front to back.
template <typename Body>
void for_each_chunk(int64_t channels, const Geometry& g, Body body) {
  const int64_t chunks = g.chunks();
  intra_op_parallel_for(0, channels * chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t channel = task / chunks, first = task % chunks * kChunk;
      body(channel, first, std::min(kChunk, g.tiles() - first));
    }
  });
}

// Row pointers of a [36, channels, tiles] tensor at (channel, first tile).
std::array<float*, kPoints> point_rows(float* data, int64_t channels, int64_t tiles, int64_t channel, int64_t first) {
  std::array<float*, kPoints> rows;
  for (int64_t p = 0; p < kPoints; ++p) rows[p] = data + (p * channels + channel) * tiles + first;
  return rows;
}

// [N, C, H, W] -> [36, C, tiles]: every 6x6 input tile (zero outside the image) as B^T d B.
torch::Tensor transform_input(const torch::Tensor& input, const Geometry& g) {
  auto transformed = torch::empty({kPoints, g.in_channels, g.tiles()}, input.options());
  // Channel-major, a chunk's tiles come from one stretch of memory instead of a small plane in each of many
  // images (the layer-3 shape at batch 64 transformed 15-25 % faster so).
  const auto by_channel = input.transpose(0, 1).contiguous();
  const float* source = by_channel.data_ptr<float>();
  float* target = transformed.data_ptr<float>();
  for_each_chunk(g.in_channels, g, [&](int64_t c, int64_t first, int64_t count) {
    thread_local ChunkArrays tiles(kPoints), scratch(kPoints);
    float* const* tile_rows = tiles.rows.data();
    TileCursor cursor(first, g.tiles_h, g.tiles_w);
    for (int64_t q = 0; q < count; ++q, cursor.next(g.tiles_h, g.tiles_w)) {
      const float* image = source + (c * g.batch + cursor.n) * g.height * g.width;
      const int64_t top = cursor.th * kTile - g.pad_h, left = cursor.tw * kTile - g.pad_w;
      if (top >= 0 && left >= 0 && top + kInputTile <= g.height && left + kInputTile <= g.width) {
        const float* corner = image + top * g.width + left;
        for (int64_t r = 0; r < kInputTile; ++r) {
          for (int64_t s = 0; s < kInputTile; ++s) tile_rows[r * kInputTile + s][q] = corner[r * g.width + s];
        }
        continue;
      }
      // A border tile: the part inside the image, zeros around it.
      const int64_t first_row = std::max<int64_t>(0, -top), end_row = std::min(kInputTile, g.height - top);
      const int64_t first_col = std::max<int64_t>(0, -left), end_col = std::min(kInputTile, g.width - left);
      float patch[kPoints] = {};
      for (int64_t r = first_row; r < end_row; ++r) {
        for (int64_t s = first_col; s < end_col; ++s) patch[r * kInputTile + s] = image[(top + r) * g.width + left + s];
      }
      for (int64_t p = 0; p < kPoints; ++p) tile_rows[p][q] = patch[p];
    }
    auto out = point_rows(target, g.in_channels, g.tiles(), c, first);
    two_sided(apply_bt, apply_bt, tiles.rows.data(), kInputTile, kInputTile, scratch.rows.data(), kInputTile,
              out.data(), kInputTile, count);
  });
  return transformed;
}

// The transpose of transform_input: [36, C, tiles] -> [N, C, H, W], overlapping tiles summed (input gradient).
torch::Tensor transform_input_transposed(const torch::Tensor& transformed, const Geometry& g) {
  auto image_gradient = torch::zeros({g.batch, g.in_channels, g.height, g.width}, transformed.options());
  float* source = transformed.data_ptr<float>();
  float* target = image_gradient.data_ptr<float>();
  // Neighbouring tiles overlap by two pixels, so one thread per channel: no two threads add to the same pixel.
  intra_op_parallel_for(0, g.in_channels, 1, [&](int64_t begin, int64_t end) {
    thread_local ChunkArrays tiles(kPoints), scratch(kPoints);
    for (int64_t c = begin; c < end; ++c) {
      for (int64_t first = 0; first < g.tiles(); first += kChunk) {
        const int64_t count = std::min(kChunk, g.tiles() - first);
        auto in = point_rows(source, g.in_channels, g.tiles(), c, first);
        std::array<const float*, kPoints> in_rows;
        std::copy(in.begin(), in.end(), in_rows.begin());
        two_sided(apply_b, apply_b, in_rows.data(), kInputTile, kInputTile, scratch.rows.data(), kInputTile,
                  tiles.rows.data(), kInputTile, count);
        TileCursor cursor(first, g.tiles_h, g.tiles_w);
        for (int64_t q = 0; q < count; ++q, cursor.next(g.tiles_h, g.tiles_w)) {
          float* image = target + (cursor.n * g.in_channels + c) * g.height * g.width;
          for (int64_t r = 0; r < kInputTile; ++r) {
            const int64_t y = cursor.th * kTile + r - g.pad_h;
            if (y < 0 || y >= g.height) continue;
            for (int64_t s = 0; s < kInputTile; ++s) {
              const int64_t x = cursor.tw * kTile + s - g.pad_w;
              if (x >= 0 && x < g.width) image[y * g.width + x] += tiles.rows[r * kInputTile + s][q];
            }
          }
        }
      }
    }
  });
  return image_gradient;
}

// [K, C, 3, 3] -> [36, K, C]: G g G^T.
torch::Tensor transform_weight(const torch::Tensor& weight) {
  const int64_t pairs = weight.size(0) * weight.size(1);
  auto transformed = torch::empty({kPoints, weight.size(0), weight.size(1)}, weight.options());
  const float* source = weight.data_ptr<float>();
  float* target = transformed.data_ptr<float>();
  intra_op_parallel_for(0, (pairs + kChunk - 1) / kChunk, 1, [&](int64_t begin, int64_t end) {
    thread_local ChunkArrays kernels(9), scratch(18);
    for (int64_t chunk = begin; chunk < end; ++chunk) {
      const int64_t first = chunk * kChunk, count = std::min(kChunk, pairs - first);
      for (int64_t q = 0; q < count; ++q) {
        for (int64_t i = 0; i < 9; ++i) kernels.rows[i][q] = source[(first + q) * 9 + i];
      }
      auto out = point_rows(target, 1, pairs, 0, first);
      two_sided(apply_g, apply_g, kernels.rows.data(), 3, 3, scratch.rows.data(), kInputTile, out.data(), kInputTile,
                count);
    }
  });
  return transformed;
}

// The transpose of transform_weight: [36, K, C] -> [K, C, 3, 3] (weight gradient).
torch::Tensor transform_weight_transposed(const torch::Tensor& transformed, int64_t out_channels, int64_t in_channels) {
  const int64_t pairs = out_channels * in_channels;
  auto weight_gradient = torch::empty({out_channels, in_channels, 3, 3}, transformed.options());
  float* source = transformed.data_ptr<float>();
  float* target = weight_gradient.data_ptr<float>();
  intra_op_parallel_for(0, (pairs + kChunk - 1) / kChunk, 1, [&](int64_t begin, int64_t end) {
    thread_local ChunkArrays kernels(9), scratch(18);
    for (int64_t chunk = begin; chunk < end; ++chunk) {
      const int64_t first = chunk * kChunk, count = std::min(kChunk, pairs - first);
      auto in = point_rows(source, 1, pairs, 0, first);
      std::array<const float*, kPoints> in_rows;
      std::copy(in.begin(), in.end(), in_rows.begin());
      two_sided(apply_gt, apply_gt, in_rows.data(), kInputTile, kInputTile, scratch.rows.data(), 3,
                kernels.rows.data(), 3, count);
      for (int64_t q = 0; q < count; ++q) {
        for (int64_t i = 0; i < 9; ++i) target[(first + q) * 9 + i] = kernels.rows[i][q];
      }
    }
  });
  return weight_gradient;
}

// [36, K, tiles] -> [N, K, OH, OW]: A^T m A per tile, cropped to the output, plus the bias.
torch::Tensor transform_output(const torch::Tensor& products, const Geometry& g, int64_t out_channels,
                               const c10::optional<torch::Tensor>& bias) {
  auto output = torch::empty({g.batch, out_channels, g.out_h, g.out_w}, products.options());
  float* source = products.data_ptr<float>();
  float* target = output.data_ptr<float>();
  const auto bias_values = bias ? bias->contiguous() : torch::Tensor();
  const float* bias_data = bias ? bias_values.data_ptr<float>() : nullptr;
  for_each_chunk(out_channels, g, [&](int64_t k, int64_t first, int64_t count) {
    thread_local ChunkArrays tiles(kTile * kTile), scratch(kPoints);
    auto in = point_rows(source, out_channels, g.tiles(), k, first);
    std::array<const float*, kPoints> in_rows;
    std::copy(in.begin(), in.end(), in_rows.begin());
    two_sided(apply_at, apply_at, in_rows.data(), kInputTile, kInputTile, scratch.rows.data(), kTile,
              tiles.rows.data(), kTile, count);
    const float offset = bias_data ? bias_data[k] : 0.f;
    TileCursor cursor(first, g.tiles_h, g.tiles_w);
    for (int64_t q = 0; q < count; ++q, cursor.next(g.tiles_h, g.tiles_w)) {
      float* image = target + (cursor.n * out_channels + k) * g.out_h * g.out_w;
      const int64_t rows = std::min(kTile, g.out_h - cursor.th * kTile), cols = std::min(kTile, g.out_w - cursor.tw * kTile);
      for (int64_t r = 0; r < rows; ++r) {
        float* row = image + (cursor.th * kTile + r) * g.out_w + cursor.tw * kTile;
        for (int64_t s = 0; s < cols; ++s) row[s] = tiles.rows[r * kTile + s][q] + offset;
      }
    }
  });
  return output;
}

// The transpose of transform_output: [N, K, OH, OW] -> [36, K, tiles] (A y A^T, zero outside the output).
torch::Tensor transform_output_transposed(const torch::Tensor& output_gradient, const Geometry& g,
                                          int64_t out_channels) {
  auto transformed = torch::empty({kPoints, out_channels, g.tiles()}, output_gradient.options());
  const float* source = output_gradient.data_ptr<float>();
  float* target = transformed.data_ptr<float>();
  for_each_chunk(out_channels, g, [&](int64_t k, int64_t first, int64_t count) {
    thread_local ChunkArrays tiles(kTile * kTile), scratch(kPoints);
    TileCursor cursor(first, g.tiles_h, g.tiles_w);
    for (int64_t q = 0; q < count; ++q, cursor.next(g.tiles_h, g.tiles_w)) {
      const float* image = source + (cursor.n * out_channels + k) * g.out_h * g.out_w;
      const int64_t rows = std::min(kTile, g.out_h - cursor.th * kTile), cols = std::min(kTile, g.out_w - cursor.tw * kTile);
      for (int64_t r = 0; r < kTile; ++r) {
        for (int64_t s = 0; s < kTile; ++s) {
          tiles.rows[r * kTile + s][q] =
              r < rows && s < cols ? image[(cursor.th * kTile + r) * g.out_w + cursor.tw * kTile + s] : 0.f;
        }
      }
    }
    auto out = point_rows(target, out_channels, g.tiles(), k, first);
    two_sided(apply_a, apply_a, tiles.rows.data(), kTile, kTile, scratch.rows.data(), kInputTile, out.data(),
              kInputTile, count);
  });
  return transformed;
}

Geometry geometry_for(const torch::Tensor& input, int64_t pad_h, int64_t pad_w) {
  return geometry_of(input.size(0), input.size(1), input.size(2), input.size(3), pad_h, pad_w);
}

// The 36 products U[p] V[p], one whole product per thread: with OpenBLAS on OpenMP, bmm splits each of the 36
// products over the threads and meets at a barrier after each, and at small products the threads spend a tenth of
// the time waiting there (profiled at batch 64, 512 channels); inside the parallel region each sgemm runs on
// its own thread (intra_op_parallel_for runs the slices in the caller's inference/grad mode, which mm_out into
// an inference tensor needs).
// Either factor may be a transposed view: [36, M, K] x [36, K, N] -> [36, M, N].
torch::Tensor pointwise_products(const torch::Tensor& left, const torch::Tensor& right) {
  auto products = torch::empty({kPoints, left.size(1), right.size(2)}, right.options());
  intra_op_parallel_for(0, kPoints, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      auto out = products.select(0, p);
      at::mm_out(out, left.select(0, p), right.select(0, p));
    }
  });
  return products;
}

class WinogradF4x3 : public torch::autograd::Function<WinogradF4x3> {
 public:
  // `training`: keep the transformed weights and input tiles for the backward pass (2.25x the input's memory)
  // instead of transforming them again there.
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& weight, const c10::optional<torch::Tensor>& bias, int64_t pad_h,
                               int64_t pad_w, bool training) {
    const auto g = geometry_for(input, pad_h, pad_w);
    const auto tiles = transform_input(input, g);
    const auto transformed_weight = transform_weight(weight);
    const auto products = pointwise_products(transformed_weight, tiles);
    ctx->saved_data["pad_h"] = pad_h;
    ctx->saved_data["pad_w"] = pad_w;
    ctx->saved_data["bias"] = bias.has_value();
    ctx->saved_data["geometry"] = std::vector<int64_t>{input.size(0), input.size(1), input.size(2), input.size(3),
                                                       weight.size(0)};
    if (training) {
      ctx->saved_data["tiles"] = tiles;
      ctx->saved_data["transformed_weight"] = transformed_weight;
    }
    return transform_output(products, g, weight.size(0), bias);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto shape = ctx->saved_data["geometry"].toIntVector();
    const auto g = geometry_of(shape[0], shape[1], shape[2], shape[3], ctx->saved_data["pad_h"].toInt(),
                               ctx->saved_data["pad_w"].toInt());
    const int64_t out_channels = shape[4];
    const auto grad_output = grads[0].contiguous();
    // Both gradients go through the same tiles: dM = A dY A^T per tile.
    const auto grad_products = transform_output_transposed(grad_output, g, out_channels);
    torch::Tensor grad_input, grad_weight, grad_bias;
    if (ctx->needs_input_grad(0)) {
      // dV = U^T dM, then the input transform's transpose scatters the tiles back.
      const auto transformed_weight = ctx->saved_data["transformed_weight"].toTensor();
      grad_input = transform_input_transposed(pointwise_products(transformed_weight.transpose(1, 2), grad_products), g);
    }
    if (ctx->needs_input_grad(1)) {
      // dU = dM V^T, then the filter transform's transpose.
      const auto tiles = ctx->saved_data["tiles"].toTensor();
      const auto grad_transformed = pointwise_products(grad_products, tiles.transpose(1, 2));
      grad_weight = transform_weight_transposed(grad_transformed.contiguous(), out_channels, shape[1]);
    }
    if (ctx->saved_data["bias"].toBool() && ctx->needs_input_grad(2)) grad_bias = grad_output.sum({0, 2, 3});
    return {grad_input, grad_weight, grad_bias, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

namespace {

// The checks both entry points make; `weight_channels` is the weight's input channel count.
void check_arguments(const char* who, const torch::Tensor& input, int64_t weight_channels,
                     const torch::Tensor& weight, const c10::optional<torch::Tensor>& bias, int64_t padding_h,
                     int64_t padding_w) {
  TORCH_CHECK(input.dim() == 4, who, ": 4-d input expected");
  TORCH_CHECK(input.size(1) == weight_channels, who, ": input has ", input.size(1), " channels, weight expects ",
              weight_channels);
  TORCH_CHECK(padding_h >= 0 && padding_h <= 2 && padding_w >= 0 && padding_w <= 2, who, ": padding 0 to 2 only");
  TORCH_CHECK(input.size(2) + 2 * padding_h >= 3 && input.size(3) + 2 * padding_w >= 3, who,
              ": input smaller than the kernel");
  TORCH_CHECK(input.device().is_cpu() && input.scalar_type() == torch::kFloat &&
                  weight.scalar_type() == torch::kFloat && (!bias || bias->scalar_type() == torch::kFloat),
              who, ": float32 CPU tensors only");
}

}  // namespace

torch::Tensor winograd_conv2d(const torch::Tensor& input, const torch::Tensor& weight,
                              const c10::optional<torch::Tensor>& bias, int64_t padding_h, int64_t padding_w) {
  TORCH_CHECK(input.dim() == 4 && weight.dim() == 4, "winograd_conv2d: 4-d input and weight expected");
  TORCH_CHECK(weight.size(2) == 3 && weight.size(3) == 3, "winograd_conv2d: 3x3 kernels only, got ",
              weight.sizes());
  check_arguments("winograd_conv2d", input, weight.size(1), weight, bias, padding_h, padding_w);
  c10::optional<torch::Tensor> contiguous_bias;
  if (bias) contiguous_bias = bias->contiguous();
  const bool training = torch::GradMode::is_enabled() &&
                        (input.requires_grad() || weight.requires_grad() || (bias && bias->requires_grad()));
  return WinogradF4x3::apply(input.contiguous(), weight.contiguous(), contiguous_bias, padding_h, padding_w,
                             training);
}

torch::Tensor winograd_transformed_weight(const torch::Tensor& weight) {
  TORCH_CHECK(weight.dim() == 4 && weight.size(2) == 3 && weight.size(3) == 3 && weight.device().is_cpu() &&
                  weight.scalar_type() == torch::kFloat,
              "winograd_transformed_weight: float32 CPU [K, C, 3, 3] expected, got ", weight.sizes());
  torch::NoGradGuard no_grad;
  return transform_weight(weight.contiguous());
}

torch::Tensor winograd_conv2d_inference(const torch::Tensor& input, const torch::Tensor& transformed_weight,
                                        const c10::optional<torch::Tensor>& bias, int64_t padding_h,
                                        int64_t padding_w) {
  TORCH_CHECK(transformed_weight.dim() == 3 && transformed_weight.size(0) == kPoints,
              "winograd_conv2d_inference: a [36, K, C] transformed weight expected, got ", transformed_weight.sizes());
  check_arguments("winograd_conv2d_inference", input, transformed_weight.size(2), transformed_weight, bias, padding_h,
                  padding_w);
  torch::NoGradGuard no_grad;
  const auto contiguous_input = input.contiguous();
  const auto g = geometry_for(contiguous_input, padding_h, padding_w);
  const auto products = pointwise_products(transformed_weight, transform_input(contiguous_input, g));
  c10::optional<torch::Tensor> contiguous_bias;
  if (bias) contiguous_bias = bias->contiguous();
  return transform_output(products, g, transformed_weight.size(1), contiguous_bias);
}

bool winograd_conv2d_pays(int64_t batch, int64_t in_channels, int64_t out_channels, int64_t out_height,
                          int64_t out_width) {
  // Measured against oneDNN's packed direct convolution with its weights packed once (oneDNN and OpenBLAS capped
  // at AVX2, 2 threads, median of 9), the recognizer's and ResNet's shapes at batch 1-32: from 32 tiles on
  // Winograd took 0.46-0.86x the time with 128-512 channels (128 channels on 16x50 at batch 1: 0.86x; 512 on
  // 4x26 at batch 8: 0.61x); below that reading the 4x larger transformed weights dominates (512 channels on
  // 4x26 at batch 1, 7 tiles: 2.0x; 256 on 8x25 at batch 2, 28 tiles: 1.0x), and with 64 channels the two were
  // even at every batch (0.88-1.02x).
  const int64_t tiles = batch * ((out_height + kTile - 1) / kTile) * ((out_width + kTile - 1) / kTile);
  return std::min(in_channels, out_channels) >= 128 && tiles >= 32;
}

}  // namespace cargovision::models
