#include "cargovision/data/augment.h"

#include <opencv2/core.hpp>

#include <cmath>

#include "cargovision/core/error.h"
#include "cargovision/data/numpy_random.h"

namespace cargovision {
namespace {

using Matrix3 = std::array<double, 9>;

Matrix3 multiply(const Matrix3& a, const Matrix3& b) {
  Matrix3 c{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) c[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
  return c;
}

constexpr Matrix3 kIdentity = {1, 0, 0, 0, 1, 0, 0, 0, 1};
double radians(double degrees) { return degrees * M_PI / 180.0; }

Matrix3 translation(double first, double second) { return {1, 0, first, 0, 1, second, 0, 0, 1}; }

// Keras builds the product in the order rotation, shift, shear, zoom, and only from the factors whose
// parameters are not neutral; leaving neutral factors out matters for bit-exactness, not for geometry.
// Legacy Keras composes in (row, col); Keras >= 2.9 composes the same factors in (x, y).
Matrix3 compose_factors(const TransformParams& p) {
  Matrix3 m = kIdentity;
  if (p.theta != 0) {
    const double t = radians(p.theta);
    m = multiply(m, {std::cos(t), -std::sin(t), 0, std::sin(t), std::cos(t), 0, 0, 0, 1});
  }
  if (p.tx != 0 || p.ty != 0) m = multiply(m, translation(p.tx, p.ty));
  if (p.shear != 0) {
    const double s = radians(p.shear);
    m = multiply(m, {1, -std::sin(s), 0, 0, std::cos(s), 0, 0, 0, 1});
  }
  if (p.zx != 1 || p.zy != 1) m = multiply(m, {p.zx, 0, 0, 0, p.zy, 0, 0, 0, 1});
  return m;
}

Matrix3 swap_axes(const Matrix3& m) {
  const Matrix3 swap = {0, 1, 0, 1, 0, 0, 0, 0, 1};
  return multiply(swap, multiply(m, swap));
}

}  // namespace

AugmentFlavour parse_augment_flavour(const std::string& name) {
  if (name == "legacy") return AugmentFlavour::kLegacy;
  if (name == "modern") return AugmentFlavour::kModern;
  throw Error("unknown augmentation flavour '" + name + "' (use legacy or modern)");
}

void validate(const AugmentOptions& o) {
  parse_augment_flavour(o.flavour);
  if (o.rotation_range < 0 || o.width_shift_range < 0 || o.height_shift_range < 0 || o.shear_range < 0 ||
      o.zoom_range < 0 || o.zoom_range >= 1) {
    throw Error("augmentation ranges must be >= 0 (zoom_range < 1)");
  }
  if (!o.brightness_range.empty() &&
      (o.brightness_range.size() != 2 || o.brightness_range[0] < 0 || o.brightness_range[0] > o.brightness_range[1])) {
    throw Error("brightness_range must be two values low <= high (or empty)");
  }
}

TransformParams draw_transform(const AugmentOptions& o, int rows, int cols, NumpyRandom& random) {
  TransformParams p;
  if (o.rotation_range != 0) p.theta = random.uniform(-o.rotation_range, o.rotation_range);
  if (o.height_shift_range != 0) {
    p.tx = random.uniform(-o.height_shift_range, o.height_shift_range);
    if (o.height_shift_range < 1) p.tx *= rows;
  }
  if (o.width_shift_range != 0) {
    p.ty = random.uniform(-o.width_shift_range, o.width_shift_range);
    if (o.width_shift_range < 1) p.ty *= cols;
  }
  if (o.shear_range != 0) p.shear = random.uniform(-o.shear_range, o.shear_range);
  if (o.zoom_range != 0) {
    p.zx = random.uniform(1 - o.zoom_range, 1 + o.zoom_range);
    p.zy = random.uniform(1 - o.zoom_range, 1 + o.zoom_range);
  }
  // Keras draws both flip decisions even when flips are disabled; keep the stream aligned.
  p.flip_horizontal = (random.random_sample() < 0.5) && o.horizontal_flip;
  (void)random.random_sample();
  if (!o.brightness_range.empty()) {
    p.has_brightness = true;
    p.brightness = random.uniform(o.brightness_range[0], o.brightness_range[1]);
  }
  return p;
}

std::array<double, 6> sampling_matrix(const TransformParams& p, int rows, int cols, AugmentFlavour flavour) {
  const bool legacy = flavour == AugmentFlavour::kLegacy;
  const Matrix3 core = legacy ? compose_factors(p) : swap_axes(compose_factors(p));
  // Keras' transform_matrix_offset_center: legacy centres at h/2 + 0.5 (a long-standing off-by-one),
  // modern at h/2 - 0.5, the true centre of pixel indices.
  const double shift = legacy ? 0.5 : -0.5;
  const double center_row = rows / 2.0 + shift;
  const double center_col = cols / 2.0 + shift;
  const Matrix3 m =
      multiply(translation(center_row, center_col), multiply(core, translation(-center_row, -center_col)));
  return {m[0], m[1], m[2], m[3], m[4], m[5]};
}

cv::Mat warp_bilinear(const cv::Mat& image, const std::array<double, 6>& a) {
  CV_Assert(image.depth() == CV_32F);
  const int rows = image.rows;
  const int cols = image.cols;
  const int channels = image.channels();
  cv::Mat out(rows, cols, image.type());
  const double max_row = rows - 1;
  const double max_col = cols - 1;
  for (int r = 0; r < rows; ++r) {
    float* dst = out.ptr<float>(r);
    for (int c = 0; c < cols; ++c) {
      double in_r = a[0] * r + a[1] * c + a[2];
      double in_c = a[3] * r + a[4] * c + a[5];
      in_r = in_r < 0 ? 0 : (in_r > max_row ? max_row : in_r);
      in_c = in_c < 0 ? 0 : (in_c > max_col ? max_col : in_c);
      const int r0 = static_cast<int>(in_r);
      const int c0 = static_cast<int>(in_c);
      const int r1 = r0 + 1 < rows ? r0 + 1 : r0;
      const int c1 = c0 + 1 < cols ? c0 + 1 : c0;
      const double fr = in_r - r0;
      const double fc = in_c - c0;
      const float* p00 = image.ptr<float>(r0) + c0 * channels;
      const float* p01 = image.ptr<float>(r0) + c1 * channels;
      const float* p10 = image.ptr<float>(r1) + c0 * channels;
      const float* p11 = image.ptr<float>(r1) + c1 * channels;
      for (int k = 0; k < channels; ++k) {
        const double top = p00[k] + fc * (static_cast<double>(p01[k]) - p00[k]);
        const double bottom = p10[k] + fc * (static_cast<double>(p11[k]) - p10[k]);
        dst[c * channels + k] = static_cast<float>(top + fr * (bottom - top));
      }
    }
  }
  return out;
}

void apply_brightness(cv::Mat& image, double brightness, AugmentFlavour flavour) {
  CV_Assert(image.type() == CV_32FC3);
  double min_value = 0;
  double max_value = 0;
  cv::minMaxLoc(image.reshape(1), &min_value, &max_value);
  // array_to_img(scale=True) in float32: subtract the minimum, divide by the maximum, times 255, truncate.
  const float lowest = static_cast<float>(min_value);
  const float range = static_cast<float>(max_value) - lowest;
  const float factor = static_cast<float>(brightness);  // Pillow takes the blend factor as a C float
  float* data = image.ptr<float>();
  const size_t count = image.total() * 3;
  for (size_t i = 0; i < count; ++i) {
    float v = data[i] - lowest;
    if (range != 0) v /= range;
    v *= 255.0f;
    const int byte = static_cast<int>(v);  // astype(uint8) truncates; v lies in [0, 255]
    const float blended = factor * static_cast<float>(byte);
    const int clipped = blended <= 0.0f ? 0 : (blended >= 255.0f ? 255 : static_cast<int>(blended));
    data[i] = static_cast<float>(clipped);
  }
  if (flavour == AugmentFlavour::kModern && range != 0) {
    // Keras >= 2.9 maps the 8-bit result back to the original value range.
    for (size_t i = 0; i < count; ++i) data[i] = data[i] / 255.0f * range + lowest;
  }
}

cv::Mat apply_transform(const cv::Mat& image, const TransformParams& params, AugmentFlavour flavour) {
  cv::Mat out = params.is_identity_warp()
                    ? image.clone()
                    : warp_bilinear(image, sampling_matrix(params, image.rows, image.cols, flavour));
  if (params.flip_horizontal) cv::flip(out, out, 1);
  if (params.has_brightness) apply_brightness(out, params.brightness, flavour);
  return out;
}

}  // namespace cargovision
