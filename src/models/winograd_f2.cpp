#include "cargovision/models/winograd_f2.h"

#include <algorithm>
#include <vector>

#include "cargovision/core/intra_op_parallel.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CARGOVISION_F2_KERNELS 1
// Only these functions are built for AVX2 (and called only where the CPU has it), so the rest of the library,
// LibTorch's inline code included, stays baseline x86-64.
#define CARGOVISION_AVX2 __attribute__((target("avx2,fma")))
#else
#define CARGOVISION_F2_KERNELS 0
#endif

namespace cargovision::models {
// A named namespace of its own: unity builds put this file in one unit with winograd.cpp.
namespace f2x3 {
namespace {

// F(2x2,3x3) (Lavin & Gray, 2016): Y = A^T [(G g G^T) . (B^T d B)] A with
// B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1], A^T = [1 1 1 0; 0 1 -1 -1].
constexpr int64_t kPoints = 16;
// The matrix kernel computes a block of kRows tiles x kLanes output channels: 12 of the 16 AVX2 registers
// accumulate, two hold the weight row, one the broadcast tile value.
constexpr int64_t kRows = 6;
constexpr int64_t kLanes = 16;
constexpr int64_t kChannelChunk = 64;  // channels per step of the matrix kernel: 4 KiB of weights
constexpr int64_t kPrefetchChunks = 2;
constexpr int64_t kSkew = 16;  // floats: one cache line

int64_t panels_for(int64_t out_channels) { return (out_channels + kLanes - 1) / kLanes; }

struct Geometry {
  int64_t batch, channels, height, width, pad_h, pad_w, out_h, out_w, tiles_h, tiles_w;
  int64_t tiles() const { return batch * tiles_h * tiles_w; }
  int64_t row_blocks() const { return (tiles() + kRows - 1) / kRows; }
  // The buffers' strides between row blocks and between points are a cache line past a multiple of the
  // channels' size: at 512 channels, plain strides are multiples of 4 KiB, and the 16 points' (and the blocks')
  // accesses of one tile all fell into one L1 set (the input transform ran at a quarter of its speed).
  int64_t block_stride() const { return channels * kRows + kSkew; }
  int64_t tiles_size() const { return kPoints * row_blocks() * block_stride(); }
  int64_t products_point_stride(int64_t panels) const { return tiles() * panels * kLanes + kSkew; }
  int64_t products_size(int64_t panels) const { return kPoints * products_point_stride(panels); }
};

#if CARGOVISION_F2_KERNELS
// Input tiles B^T d B into [16 points][row blocks][C][kRows]: the layout the matrix kernel reads in order (the
// last block's rows past the last tile are never read). One channel at a time through a zero-bordered copy of
// its image, so no tile needs bounds checks.
// (A lambda does not inherit its function's target, so each parallel body is a function of its own.)
CARGOVISION_AVX2 void transform_input_channels(const float* input, const Geometry& g, float* tiles, int64_t begin,
                                               int64_t end) {
  const int64_t blocks = g.row_blocks(), padded_h = g.tiles_h * 2 + 2, padded_w = g.tiles_w * 2 + 2;
  std::vector<float> padded(padded_h * padded_w);
  for (int64_t c = begin; c < end; ++c) {
    for (int64_t n = 0; n < g.batch; ++n) {
      std::fill(padded.begin(), padded.end(), 0.f);
      const float* image = input + (n * g.channels + c) * g.height * g.width;
      const int64_t rows = std::min(g.height, padded_h - g.pad_h), cols = std::min(g.width, padded_w - g.pad_w);
      for (int64_t y = 0; y < rows; ++y) {
        std::copy(image + y * g.width, image + y * g.width + cols, padded.data() + (y + g.pad_h) * padded_w + g.pad_w);
      }
      for (int64_t th = 0; th < g.tiles_h; ++th) {
        for (int64_t tw = 0; tw < g.tiles_w; ++tw) {
          const float* d = padded.data() + th * 2 * padded_w + tw * 2;
          float m[4][4];  // B^T d
          for (int64_t s = 0; s < 4; ++s) {
            const float d0 = d[s], d1 = d[padded_w + s], d2 = d[2 * padded_w + s], d3 = d[3 * padded_w + s];
            m[0][s] = d0 - d2;
            m[1][s] = d1 + d2;
            m[2][s] = d2 - d1;
            m[3][s] = d1 - d3;
          }
          const int64_t q = (n * g.tiles_h + th) * g.tiles_w + tw;
          float* out = tiles + (q / kRows) * g.block_stride() + c * kRows + q % kRows;
          const int64_t point_stride = blocks * g.block_stride();
          for (int64_t r = 0; r < 4; ++r) {  // (B^T d) B
            out[(r * 4 + 0) * point_stride] = m[r][0] - m[r][2];
            out[(r * 4 + 1) * point_stride] = m[r][1] + m[r][2];
            out[(r * 4 + 2) * point_stride] = m[r][2] - m[r][1];
            out[(r * 4 + 3) * point_stride] = m[r][1] - m[r][3];
          }
        }
      }
    }
  }
}

void transform_input(const float* input, const Geometry& g, float* tiles) {
  intra_op_parallel_for(0, g.channels, 1,
                        [&](int64_t begin, int64_t end) { transform_input_channels(input, g, tiles, begin, end); });
}

// out[r][0..16) (+)= sum over c of tiles[c][r] * weights[c][0..16), for r < R (R <= kRows rows of one block);
// `accumulate`: add to what out holds. Meanwhile asks for the `prefetch_lines` cache lines from `prefetch`.
template <int R>
CARGOVISION_AVX2 void multiply_block(const float* tiles, const float* weights, int64_t channels, float* out,
                                     int64_t out_stride, bool accumulate, const char* prefetch,
                                     int64_t prefetch_lines) {
  const __m256 zero = _mm256_setzero_ps();
  // Named accumulators, not an array: GCC spills an array of them to the stack on every iteration.
  __m256 a00 = zero, a01 = zero, a10 = zero, a11 = zero, a20 = zero, a21 = zero;
  __m256 a30 = zero, a31 = zero, a40 = zero, a41 = zero, a50 = zero, a51 = zero;
  if (accumulate) {
#define CARGOVISION_F2_LOAD(r)                                     \
  if constexpr (R > r) {                                           \
    a##r##0 = _mm256_loadu_ps(out + r * out_stride);               \
    a##r##1 = _mm256_loadu_ps(out + r * out_stride + 8);           \
  }
    CARGOVISION_F2_LOAD(0)
    CARGOVISION_F2_LOAD(1)
    CARGOVISION_F2_LOAD(2)
    CARGOVISION_F2_LOAD(3)
    CARGOVISION_F2_LOAD(4)
    CARGOVISION_F2_LOAD(5)
#undef CARGOVISION_F2_LOAD
  }
  for (int64_t c = 0; c < channels; ++c, tiles += kRows, weights += kLanes) {
    if (c < prefetch_lines) _mm_prefetch(prefetch + c * 64, _MM_HINT_T0);
    const __m256 w0 = _mm256_loadu_ps(weights), w1 = _mm256_loadu_ps(weights + 8);
#define CARGOVISION_F2_ROW(r)                              \
  if constexpr (R > r) {                                   \
    const __m256 t = _mm256_broadcast_ss(tiles + r);       \
    a##r##0 = _mm256_fmadd_ps(t, w0, a##r##0);             \
    a##r##1 = _mm256_fmadd_ps(t, w1, a##r##1);             \
  }
    CARGOVISION_F2_ROW(0)
    CARGOVISION_F2_ROW(1)
    CARGOVISION_F2_ROW(2)
    CARGOVISION_F2_ROW(3)
    CARGOVISION_F2_ROW(4)
    CARGOVISION_F2_ROW(5)
#undef CARGOVISION_F2_ROW
  }
#define CARGOVISION_F2_STORE(r)                                   \
  if constexpr (R > r) {                                          \
    _mm256_storeu_ps(out + r * out_stride, a##r##0);              \
    _mm256_storeu_ps(out + r * out_stride + 8, a##r##1);          \
  }
  CARGOVISION_F2_STORE(0)
  CARGOVISION_F2_STORE(1)
  CARGOVISION_F2_STORE(2)
  CARGOVISION_F2_STORE(3)
  CARGOVISION_F2_STORE(4)
  CARGOVISION_F2_STORE(5)
#undef CARGOVISION_F2_STORE
}

// products[p][tile][k] = sum over c of tiles[p][tile][c] * U[p][c][k] for the 16 points. Each thread takes whole
// weight panels (16 output channels of one point) and runs every row block through them, a chunk of channels at
// a time: each chunk of weights is read from memory once and then from L1 for the other blocks. At batch 1 that
// stream of weights is what bounds the time: the hardware prefetcher alone leaves the memory idle while the
// blocks compute, so each block pass also asks for its share of the chunk two ahead (512 channels at batch 1:
// 1.75-1.9 -> 1.58-1.66 ms in a standalone sweep; 1.27 ms with the weights in L2).
CARGOVISION_AVX2 void multiply_panels(const float* tiles, const float* weights, const Geometry& g, int64_t panels,
                                      float* products, int64_t begin, int64_t end) {
  const int64_t blocks = g.row_blocks(), tiles_count = g.tiles(), stride = panels * kLanes;
  for (int64_t unit = begin; unit < end; ++unit) {
    const int64_t p = unit / panels, panel = unit % panels;
    const float* panel_weights = weights + (p * panels + panel) * g.channels * kLanes;
    for (int64_t first = 0; first < g.channels; first += kChannelChunk) {
      const int64_t count = std::min(kChannelChunk, g.channels - first);
      const float* chunk_weights = panel_weights + first * kLanes;
      // A thread's chunks follow each other in memory (panel after panel); past the weights' end (the last
      // thread's last chunks) a prefetch is only a hint, never a fault.
      const char* ahead = reinterpret_cast<const char*>(chunk_weights + kPrefetchChunks * kChannelChunk * kLanes);
      for (int64_t block = 0; block < blocks; ++block) {
        const float* block_tiles = tiles + (p * blocks + block) * g.block_stride() + first * kRows;
        float* out = products + p * g.products_point_stride(panels) + block * kRows * stride + panel * kLanes;
        const bool accumulate = first > 0;
        const int64_t lines_from = block * kChannelChunk / blocks, lines_to = (block + 1) * kChannelChunk / blocks;
        const char* prefetch = ahead + lines_from * 64;
        const int64_t lines = lines_to - lines_from;
        // (A switch, not a generic lambda: a lambda would not carry this function's AVX2 target.)
#define CARGOVISION_F2_BLOCK(rows)                                                                              \
  case rows:                                                                                                    \
    multiply_block<rows>(block_tiles, chunk_weights, count, out, stride, accumulate, prefetch, lines);          \
    break;
        switch (std::min(kRows, tiles_count - block * kRows)) {
          CARGOVISION_F2_BLOCK(6)
          CARGOVISION_F2_BLOCK(5)
          CARGOVISION_F2_BLOCK(4)
          CARGOVISION_F2_BLOCK(3)
          CARGOVISION_F2_BLOCK(2)
          default: multiply_block<1>(block_tiles, chunk_weights, count, out, stride, accumulate, prefetch, lines);
        }
#undef CARGOVISION_F2_BLOCK
      }
    }
  }
}

void multiply_points(const float* tiles, const float* weights, const Geometry& g, int64_t panels, float* products) {
  intra_op_parallel_for(0, kPoints * panels, 1, [&](int64_t begin, int64_t end) {
    multiply_panels(tiles, weights, g, panels, products, begin, end);
  });
}

// A^T m A per tile, 8 output channels at a time, plus the bias, into [N, K, out_h, out_w].
CARGOVISION_AVX2 void transform_output_tiles(const float* products, const Geometry& g, int64_t out_channels,
                                             int64_t panels, const float* padded_bias, float* output, int64_t begin,
                                             int64_t end) {
  const int64_t stride = panels * kLanes, point_stride = g.products_point_stride(panels);
  const int64_t plane = g.out_h * g.out_w;
  alignas(32) float y[4][8];
  for (int64_t q = begin; q < end; ++q) {
    const int64_t n = q / (g.tiles_h * g.tiles_w), th = q / g.tiles_w % g.tiles_h, tw = q % g.tiles_w;
    const int64_t rows = std::min<int64_t>(2, g.out_h - th * 2), cols = std::min<int64_t>(2, g.out_w - tw * 2);
    for (int64_t k = 0; k < out_channels; k += 8) {
      const float* m = products + q * stride + k;
      __m256 a[2][4];  // A^T m
      for (int64_t s = 0; s < 4; ++s) {
        const __m256 m0 = _mm256_loadu_ps(m + (0 * 4 + s) * point_stride);
        const __m256 m1 = _mm256_loadu_ps(m + (1 * 4 + s) * point_stride);
        const __m256 m2 = _mm256_loadu_ps(m + (2 * 4 + s) * point_stride);
        const __m256 m3 = _mm256_loadu_ps(m + (3 * 4 + s) * point_stride);
        a[0][s] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
        a[1][s] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
      }
      const __m256 bias = _mm256_loadu_ps(padded_bias + k);
      for (int64_t r = 0; r < 2; ++r) {  // (A^T m) A
        _mm256_store_ps(y[r * 2], _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a[r][0], a[r][1]), a[r][2]), bias));
        _mm256_store_ps(y[r * 2 + 1],
                        _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(a[r][1], a[r][2]), a[r][3]), bias));
      }
      const int64_t lanes = std::min<int64_t>(8, out_channels - k);
      for (int64_t lane = 0; lane < lanes; ++lane) {
        float* image = output + (n * out_channels + k + lane) * plane + th * 2 * g.out_w + tw * 2;
        for (int64_t r = 0; r < rows; ++r) {
          for (int64_t s = 0; s < cols; ++s) image[r * g.out_w + s] = y[r * 2 + s][lane];
        }
      }
    }
  }
}

void transform_output(const float* products, const Geometry& g, int64_t out_channels, int64_t panels,
                      const float* padded_bias, float* output) {
  intra_op_parallel_for(0, g.tiles(), 1, [&](int64_t begin, int64_t end) {
    transform_output_tiles(products, g, out_channels, panels, padded_bias, output, begin, end);
  });
}
#endif  // CARGOVISION_F2_KERNELS

}  // namespace
}  // namespace f2x3

bool winograd_f2_available() {
#if CARGOVISION_F2_KERNELS
  static const bool available = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return available;
#else
  return false;
#endif
}

torch::Tensor winograd_f2_packed_weight(const torch::Tensor& weight) {
  TORCH_CHECK(weight.dim() == 4 && weight.size(2) == 3 && weight.size(3) == 3,
              "winograd_f2_packed_weight: a [K, C, 3, 3] weight expected, got ", weight.sizes());
  TORCH_CHECK(weight.scalar_type() == torch::kFloat && weight.device().is_cpu(),
              "winograd_f2_packed_weight: a float32 CPU weight expected");
  const auto source_tensor = weight.contiguous();
  const int64_t out_channels = weight.size(0), in_channels = weight.size(1), panels = f2x3::panels_for(out_channels);
  auto packed = torch::empty({f2x3::kPoints, panels, in_channels, f2x3::kLanes}, weight.options());
  const float* source = source_tensor.data_ptr<float>();
  float* target = packed.data_ptr<float>();
  // A panel at a time, so that each (point, channel) row of 16 output channels is written whole: written one
  // output channel at a time, the 16 points' rows lie a multiple of 4 KiB apart and collide in the cache.
  intra_op_parallel_for(0, panels, 1, [&](int64_t begin, int64_t end) {
    float rows[f2x3::kPoints][f2x3::kLanes];
    for (int64_t panel = begin; panel < end; ++panel) {
      for (int64_t c = 0; c < in_channels; ++c) {
        for (int64_t lane = 0; lane < f2x3::kLanes; ++lane) {
          const int64_t k = panel * f2x3::kLanes + lane;
          if (k >= out_channels) {
            for (auto& row : rows) row[lane] = 0.f;
            continue;
          }
          const float* g = source + (k * in_channels + c) * 9;
          float m[4][3];  // G g
          for (int64_t j = 0; j < 3; ++j) {
            m[0][j] = g[j];
            m[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
            m[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
            m[3][j] = g[6 + j];
          }
          for (int64_t r = 0; r < 4; ++r) {  // (G g) G^T
            rows[r * 4 + 0][lane] = m[r][0];
            rows[r * 4 + 1][lane] = 0.5f * (m[r][0] + m[r][1] + m[r][2]);
            rows[r * 4 + 2][lane] = 0.5f * (m[r][0] - m[r][1] + m[r][2]);
            rows[r * 4 + 3][lane] = m[r][2];
          }
        }
        for (int64_t p = 0; p < f2x3::kPoints; ++p) {
          std::copy(rows[p], rows[p] + f2x3::kLanes, target + ((p * panels + panel) * in_channels + c) * f2x3::kLanes);
        }
      }
    }
  });
  return packed;
}

torch::Tensor winograd_f2_conv2d_inference(const torch::Tensor& input, const torch::Tensor& packed_weight,
                                           int64_t out_channels, const c10::optional<torch::Tensor>& bias,
                                           int64_t padding_h, int64_t padding_w) {
  TORCH_CHECK(winograd_f2_available(), "winograd_f2_conv2d_inference: this CPU has no AVX2 and FMA");
  TORCH_CHECK(input.dim() == 4 && input.scalar_type() == torch::kFloat && input.device().is_cpu(),
              "winograd_f2_conv2d_inference: a float32 CPU input [N, C, H, W] expected, got ", input.sizes());
  TORCH_CHECK(packed_weight.dim() == 4 && packed_weight.size(0) == f2x3::kPoints &&
                  packed_weight.size(1) == f2x3::panels_for(out_channels) && packed_weight.size(2) == input.size(1) &&
                  packed_weight.size(3) == f2x3::kLanes && packed_weight.is_contiguous() &&
                  packed_weight.scalar_type() == torch::kFloat,
              "winograd_f2_conv2d_inference: a contiguous packed weight [16, ", f2x3::panels_for(out_channels), ", ",
              input.size(1), ", 16] expected (winograd_f2_packed_weight), got ", packed_weight.sizes());
  TORCH_CHECK(out_channels > 0, "winograd_f2_conv2d_inference: out_channels must be positive, got ", out_channels);
  TORCH_CHECK(padding_h >= 0 && padding_h <= 2 && padding_w >= 0 && padding_w <= 2,
              "winograd_f2_conv2d_inference: padding 0, 1 or 2 expected, got (", padding_h, ", ", padding_w, ")");
  TORCH_CHECK(!bias || ((*bias).dim() == 1 && (*bias).size(0) == out_channels),
              "winograd_f2_conv2d_inference: a bias of ", out_channels, " values expected");
  f2x3::Geometry g{input.size(0), input.size(1), input.size(2), input.size(3), padding_h, padding_w, 0, 0, 0, 0};
  g.out_h = g.height + 2 * padding_h - 2;
  g.out_w = g.width + 2 * padding_w - 2;
  TORCH_CHECK(g.out_h > 0 && g.out_w > 0, "winograd_f2_conv2d_inference: input ", input.sizes(),
              " is smaller than the 3x3 kernel");
  g.tiles_h = (g.out_h + 1) / 2;
  g.tiles_w = (g.out_w + 1) / 2;
  auto output = torch::empty({g.batch, out_channels, g.out_h, g.out_w}, input.options());
  if (g.batch == 0 || g.channels == 0) return output.zero_();
#if CARGOVISION_F2_KERNELS
  torch::NoGradGuard no_grad;
  const int64_t panels = f2x3::panels_for(out_channels);
  const auto source = input.contiguous();
  auto tiles = torch::empty({g.tiles_size()}, input.options());
  auto products = torch::empty({g.products_size(panels)}, input.options());
  auto padded_bias = torch::zeros({panels * f2x3::kLanes}, input.options());
  if (bias) padded_bias.narrow(0, 0, out_channels).copy_(*bias);
  f2x3::transform_input(source.data_ptr<float>(), g, tiles.data_ptr<float>());
  f2x3::multiply_points(tiles.data_ptr<float>(), packed_weight.data_ptr<float>(), g, panels,
                        products.data_ptr<float>());
  f2x3::transform_output(products.data_ptr<float>(), g, out_channels, panels, padded_bias.data_ptr<float>(),
                         output.data_ptr<float>());
#endif
  return output;
}

bool winograd_f2_pays(int64_t batch, int64_t in_channels, int64_t out_channels, int64_t out_height,
                      int64_t out_width) {
  // Measured capped at AVX2 (2 cores, Zen 4) against oneDNN's direct kernel with packed weights and the F(4x4)
  // with transformed weights, on the recognizer's (64-512 channels, 32x100 down to 4x26), ResNet's (56x56 down to
  // 7x7) and 2x27 3x3 layers at batches 1-16. It wins where the weights, not the tiles, are the work: 0.57-0.87x the
  // better other at batch 1 from 128 channels up (512 at 4x26: 0.73x), 0.65-0.75x at batch 2 from 256 up; it
  // loses once tiles x channels passes ~50,000 (128 channels at 400 tiles: 1.1x; 512 at 208: 1.2x), with fewer
  // than 128 channels (64 at 32x100: even; at 56x56: 1.4x), and with fewer than 16 tiles, where the blocks of 6
  // tiles run part-empty (512 channels at 2x27, 14 tiles: 1.1x of the direct kernel).
  const int64_t tiles = batch * ((out_height + 1) / 2) * ((out_width + 1) / 2);
  return winograd_f2_available() && std::min(in_channels, out_channels) >= 128 && tiles >= 16 &&
         tiles * std::max(in_channels, out_channels) <= 50'000;
}

}  // namespace cargovision::models
