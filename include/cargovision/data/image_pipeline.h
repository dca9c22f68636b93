#pragma once
// The per-image path from file to network input, matching Keras: decode RGB, resize to the target
// (Pillow nearest by default), optional random transform on float32 [0, 255], rescale by 1/255, then
// the normalisation the backbone weights expect.

#include <opencv2/core.hpp>

#include <string>

#include "cargovision/data/augment.h"
#include "cargovision/data/resize.h"

namespace cargovision {

enum class Normalization { kRescale, kImagenet };
Normalization parse_normalization(const std::string& name);  // "rescale" | "imagenet"
std::string to_string(Normalization normalization);

struct ImagePipeline {
  int image_size = 224;
  ResizeMethod resize = ResizeMethod::kNearestPillow;
  Normalization normalization = Normalization::kRescale;
  bool augment = false;
  AugmentFlavour flavour = AugmentFlavour::kLegacy;

  // RGB uint8 image -> float32 HWC image ready for the network (rescaled and normalised).
  cv::Mat prepare(const cv::Mat& rgb, const TransformParams* transform) const;

  // Writes a prepared HWC float image as CHW planes into `destination` (3 * size * size floats).
  static void to_chw(const cv::Mat& prepared, float* destination);
};

}  // namespace cargovision
