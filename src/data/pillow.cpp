#include "cargovision/data/pillow.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "cargovision/core/error.h"

namespace cargovision {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

double bicubic_kernel(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

// For each output position: the first input index, the tap count and the fixed-point weights.
struct Taps {
  std::vector<int> first, count;
  std::vector<std::int32_t> weights;  // out_size * stride
  int stride = 0;
};

Taps precompute_taps(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = scale < 1.0 ? 1.0 : scale;
  const double support = 2.0 * filter_scale;
  const double inverse_filter_scale = 1.0 / filter_scale;  // multiplied, as Pillow does, for identical rounding
  Taps taps;
  taps.stride = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.first.resize(out_size);
  taps.count.resize(out_size);
  taps.weights.assign(static_cast<std::size_t>(out_size) * taps.stride, 0);
  std::vector<double> weights(taps.stride);
  for (int out = 0; out < out_size; ++out) {
    const double centre = (out + 0.5) * scale;
    int lo = static_cast<int>(centre - support + 0.5);
    if (lo < 0) lo = 0;
    int hi = static_cast<int>(centre + support + 0.5);
    if (hi > in_size) hi = in_size;
    const int count = hi - lo;
    double total = 0.0;
    for (int k = 0; k < count; ++k) {
      weights[k] = bicubic_kernel((k + lo - centre + 0.5) * inverse_filter_scale);
      total += weights[k];
    }
    for (int k = 0; k < count; ++k) {
      const double w = total != 0.0 ? weights[k] / total : weights[k];
      const double fixed = w * (1 << kPrecisionBits);
      taps.weights[static_cast<std::size_t>(out) * taps.stride + k] =
          static_cast<std::int32_t>(w < 0 ? -0.5 + fixed : 0.5 + fixed);
    }
    taps.first[out] = lo;
    taps.count[out] = count;
  }
  return taps;
}

inline std::uint8_t clip8(std::int64_t value) {
  if (value >= (std::int64_t{1} << kPrecisionBits << 8)) return 255;
  if (value <= 0) return 0;
  return static_cast<std::uint8_t>(value >> kPrecisionBits);
}

cv::Mat resample_horizontal(const cv::Mat& in, int out_width) {
  const Taps taps = precompute_taps(in.cols, out_width);
  const int channels = in.channels();
  cv::Mat out(in.rows, out_width, in.type());
  for (int y = 0; y < in.rows; ++y) {
    const std::uint8_t* src = in.ptr<std::uint8_t>(y);
    std::uint8_t* dst = out.ptr<std::uint8_t>(y);
    for (int x = 0; x < out_width; ++x) {
      const std::int32_t* w = &taps.weights[static_cast<std::size_t>(x) * taps.stride];
      for (int c = 0; c < channels; ++c) {
        std::int64_t sum = std::int64_t{1} << (kPrecisionBits - 1);
        for (int k = 0; k < taps.count[x]; ++k) sum += std::int64_t{src[(taps.first[x] + k) * channels + c]} * w[k];
        dst[x * channels + c] = clip8(sum);
      }
    }
  }
  return out;
}

cv::Mat resample_vertical(const cv::Mat& in, int out_height) {
  const Taps taps = precompute_taps(in.rows, out_height);
  const int row_length = in.cols * in.channels();
  cv::Mat out(out_height, in.cols, in.type());
  for (int y = 0; y < out_height; ++y) {
    const std::int32_t* w = &taps.weights[static_cast<std::size_t>(y) * taps.stride];
    std::uint8_t* dst = out.ptr<std::uint8_t>(y);
    for (int i = 0; i < row_length; ++i) {
      std::int64_t sum = std::int64_t{1} << (kPrecisionBits - 1);
      for (int k = 0; k < taps.count[y]; ++k) sum += std::int64_t{in.ptr<std::uint8_t>(taps.first[y] + k)[i]} * w[k];
      dst[i] = clip8(sum);
    }
  }
  return out;
}

}  // namespace

cv::Mat rgb_to_grey_pillow(const cv::Mat& rgb) {
  require(rgb.type() == CV_8UC3, "rgb_to_grey_pillow expects an 8-bit 3-channel image");
  cv::Mat grey(rgb.rows, rgb.cols, CV_8UC1);
  for (int y = 0; y < rgb.rows; ++y) {
    const std::uint8_t* src = rgb.ptr<std::uint8_t>(y);
    std::uint8_t* dst = grey.ptr<std::uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x) {
      const std::uint32_t l = 19595u * src[3 * x] + 38470u * src[3 * x + 1] + 7471u * src[3 * x + 2] + 0x8000u;
      dst[x] = static_cast<std::uint8_t>(l >> 16);
    }
  }
  return grey;
}

cv::Mat resize_bicubic_pillow(const cv::Mat& source, int width, int height) {
  require(source.depth() == CV_8U && (source.channels() == 1 || source.channels() == 3),
          "resize_bicubic_pillow expects an 8-bit image with 1 or 3 channels");
  require(width > 0 && height > 0 && !source.empty(), "cannot resize a {}x{} image to {}x{}", source.cols, source.rows,
          width, height);
  // Pillow skips a pass whose size does not change (no rounding there either).
  cv::Mat result = source.isContinuous() ? source : source.clone();
  if (width != result.cols) result = resample_horizontal(result, width);
  if (height != result.rows) result = resample_vertical(result, height);
  return result.data == source.data ? source.clone() : result;
}

}  // namespace cargovision
