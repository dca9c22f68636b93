#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <string>

namespace cargovision {

// Decodes an image file as 8-bit RGB (grey and RGBA are converted, alpha dropped as Pillow's
// convert("RGB") does). EXIF orientation is ignored, as Keras/Pillow ignore it.
// Throws ImageReadError naming the path and the problem (missing, empty, not an image, truncated).
cv::Mat read_rgb_image(const std::string& path);

// The same for encoded bytes held in memory (an LMDB record); `origin` names them in errors.
cv::Mat decode_rgb_image(const unsigned char* data, std::size_t size, const std::string& origin);

// True when the lower-cased file name ends with one of png jpg jpeg bmp ppm tif tiff.
bool has_image_extension(const std::string& filename);

}  // namespace cargovision
