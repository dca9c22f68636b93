#pragma once

#include <opencv2/core.hpp>

#include <string>

namespace cargovision {

enum class ResizeMethod { kNearestPillow, kBilinear, kArea };

ResizeMethod parse_resize_method(const std::string& name);  // "nearest" | "bilinear" | "area"

// Pillow's NEAREST resize (what Keras' load_img(target_size=...) does): the source index of output
// column j is floor((j + 0.5) * in / out), accumulated in double. OpenCV's INTER_NEAREST differs.
cv::Mat resize_nearest_pillow(const cv::Mat& source, int width, int height);

cv::Mat resize_image(const cv::Mat& source, int width, int height, ResizeMethod method);

}  // namespace cargovision
