#pragma once
// Pixel-exact reproductions of the Pillow operations the original OCR pipeline applies, so that a
// checkpoint trained in Python sees the same input here. OpenCV's INTER_CUBIC (a = -0.75, no
// antialiasing) differs by many grey levels on downscaled crops.

#include <opencv2/core.hpp>

namespace cargovision {

// Image.convert("L") from RGB: L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16.
cv::Mat rgb_to_grey_pillow(const cv::Mat& rgb);

// Image.resize((width, height), Image.BICUBIC) on 8-bit images with 1 or 3 channels: separable
// Keys cubic with a = -0.5 whose support widens by the scale factor when shrinking, fixed-point
// coefficients (22 fractional bits) and 8-bit rounding after the horizontal, then the vertical pass.
cv::Mat resize_bicubic_pillow(const cv::Mat& source, int width, int height);

}  // namespace cargovision
