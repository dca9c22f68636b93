#pragma once
// Keras ImageDataGenerator random transforms (keras-preprocessing 1.1.2, "legacy", the seed's; and the
// Keras >= 2.9 "modern" variant), applied to float32 RGB images holding values in [0, 255].

#include <opencv2/core.hpp>

#include <array>
#include <string>
#include <vector>

namespace cargovision {

class NumpyRandom;

enum class AugmentFlavour { kLegacy, kModern };
AugmentFlavour parse_augment_flavour(const std::string& name);  // "legacy" | "modern"

struct AugmentOptions {
  bool enabled = true;
  double rotation_range = 20.0;      // degrees
  double width_shift_range = 0.2;    // < 1: fraction of the width, >= 1: pixels
  double height_shift_range = 0.2;
  double shear_range = 0.2;          // degrees, as Keras interprets it
  double zoom_range = 0.2;           // zx, zy ~ U(1 - z, 1 + z) independently
  std::vector<double> brightness_range = {0.8, 1.2};  // empty: no brightness change
  bool horizontal_flip = false;
  std::string flavour = "legacy";
};

void validate(const AugmentOptions& options);  // throws Error on out-of-range values

struct TransformParams {
  double theta = 0.0;  // degrees
  double tx = 0.0;     // rows (from height_shift_range)
  double ty = 0.0;     // columns (from width_shift_range)
  double shear = 0.0;  // degrees
  double zx = 1.0;
  double zy = 1.0;
  bool flip_horizontal = false;
  bool has_brightness = false;
  double brightness = 1.0;
  bool is_identity_warp() const { return theta == 0 && tx == 0 && ty == 0 && shear == 0 && zx == 1 && zy == 1; }
};

// Draws in Keras' order: theta, tx, ty, shear, (zx, zy), flip-h, flip-v, brightness.
TransformParams draw_transform(const AugmentOptions& options, int rows, int cols, NumpyRandom& random);

// Row-major 2x3 matrix A mapping an output pixel (row, col) to the input position it samples.
std::array<double, 6> sampling_matrix(const TransformParams& params, int rows, int cols, AugmentFlavour flavour);

// Bilinear sampling in double precision with coordinates clamped to the border (edge replication),
// as scipy.ndimage.affine_transform(order=1, mode="nearest"). Input and output CV_32FC(n).
cv::Mat warp_bilinear(const cv::Mat& image, const std::array<double, 6>& matrix);

// Pillow's ImageEnhance.Brightness on the 8-bit image Keras' array_to_img produces (legacy: the
// min-max stretch is kept; modern: undone afterwards). In place, CV_32FC3.
void apply_brightness(cv::Mat& image, double brightness, AugmentFlavour flavour);

// Warp, then horizontal flip, then brightness; returns a new CV_32FC3 image.
cv::Mat apply_transform(const cv::Mat& image, const TransformParams& params, AugmentFlavour flavour);

}  // namespace cargovision
