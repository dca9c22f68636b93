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

cv::Mat decode_rgb_image(const unsigned char* data, std::size_t size, const std::string& origin) {
  if (size == 0) throw ImageReadError(origin + ": empty file (0 bytes)");
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
