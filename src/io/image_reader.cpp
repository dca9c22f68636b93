#include "cargovision/io/image_reader.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <iterator>
#include <vector>

#include "cargovision/core/error.h"

namespace cargovision {

bool has_image_extension(const std::string& filename) {
  static const std::array<std::string, 7> kExtensions = {".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff"};
  std::string lower(filename);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::any_of(kExtensions.begin(), kExtensions.end(), [&](const std::string& ext) {
    return lower.size() >= ext.size() && lower.compare(lower.size() - ext.size(), ext.size(), ext) == 0;
  });
}

namespace {

// libjpeg decodes a cut-off JPEG with a warning and fills the rest grey; Pillow (and so Keras) refuses
// it. The entropy-coded data never holds 0xFF 0xD9, so a whole file has that end-of-image marker after
// its last start-of-scan marker.
bool is_truncated_jpeg(const unsigned char* data, std::size_t size) {
  if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return false;
  std::size_t last_scan = 0;
  for (std::size_t i = 2; i + 1 < size; ++i) {
    if (data[i] == 0xFF && data[i + 1] == 0xDA) last_scan = i;
  }
  for (std::size_t i = last_scan + 2; i + 1 < size; ++i) {
    if (data[i] == 0xFF && data[i + 1] == 0xD9) return false;
  }
  return true;
}

}  // namespace

cv::Mat decode_rgb_image(const unsigned char* data, std::size_t size, const std::string& origin) {
  if (size == 0) throw ImageReadError(origin + ": empty file (0 bytes)");
  if (is_truncated_jpeg(data, size)) throw ImageReadError(origin + ": truncated JPEG (the image data ends early)");
  cv::Mat bgr;
  try {
    const cv::Mat encoded(1, static_cast<int>(size), CV_8U, const_cast<unsigned char*>(data));
    bgr = cv::imdecode(encoded, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
  } catch (const cv::Exception& e) {
    throw ImageReadError(origin + ": cannot decode image (" + e.msg + ")");
  }
  if (bgr.empty() || bgr.rows <= 0 || bgr.cols <= 0) {
    throw ImageReadError(origin + ": not a decodable image (corrupt, truncated or unsupported format)");
  }
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

cv::Mat read_rgb_image(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw ImageReadError(path + ": cannot open file");
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return decode_rgb_image(bytes.data(), bytes.size(), path);
}

}  // namespace cargovision
