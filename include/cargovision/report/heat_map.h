#pragma once
// Draws a class-activation heat map (Grad-CAM) over the image it explains.

#include <opencv2/core.hpp>

namespace cargovision::report {

// heat: one channel, float, values in [0, 1], any size (stretched over the whole image, as the model
// saw the image resized to a square). Returns a BGR image of image's size: the JET colour map blended
// in where the heat is, so cold regions keep their own colours.
cv::Mat overlay_heat_map(const cv::Mat& image, const cv::Mat& heat, double opacity = 0.5);

}  // namespace cargovision::report
