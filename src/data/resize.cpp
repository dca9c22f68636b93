#include "cargovision/data/resize.h"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <vector>

#include "cargovision/core/error.h"

namespace cargovision {
namespace {

std::vector<int> pillow_nearest_indices(int in, int out) {
  std::vector<int> indices(out);
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  double position = 0.5 * scale;
  for (int j = 0; j < out; ++j) {
    int index = static_cast<int>(std::floor(position));
    indices[j] = index < 0 ? 0 : (index >= in ? in - 1 : index);
    position += scale;
  }
  return indices;
}

}  // namespace

ResizeMethod parse_resize_method(const std::string& name) {
  if (name == "nearest") return ResizeMethod::kNearestPillow;
  if (name == "bilinear") return ResizeMethod::kBilinear;
  if (name == "area") return ResizeMethod::kArea;
  throw Error("unknown resize method '" + name + "' (use nearest, bilinear or area)");
}

cv::Mat resize_nearest_pillow(const cv::Mat& source, int width, int height) {
  CV_Assert(width > 0 && height > 0 && !source.empty());
  const auto columns = pillow_nearest_indices(source.cols, width);
  const auto rows = pillow_nearest_indices(source.rows, height);
  cv::Mat result(height, width, source.type());
  const size_t pixel_bytes = source.elemSize();
  for (int y = 0; y < height; ++y) {
    const uchar* src_row = source.ptr<uchar>(rows[y]);
    uchar* dst_row = result.ptr<uchar>(y);
    for (int x = 0; x < width; ++x) {
      std::copy_n(src_row + columns[x] * pixel_bytes, pixel_bytes, dst_row + x * pixel_bytes);
    }
  }
  return result;
}

cv::Mat resize_image(const cv::Mat& source, int width, int height, ResizeMethod method) {
  if (source.cols == width && source.rows == height) return source;
  switch (method) {
    case ResizeMethod::kNearestPillow:
      return resize_nearest_pillow(source, width, height);
    case ResizeMethod::kBilinear: {
      cv::Mat out;
      cv::resize(source, out, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
      return out;
    }
    case ResizeMethod::kArea: {
      cv::Mat out;
      cv::resize(source, out, cv::Size(width, height), 0, 0, cv::INTER_AREA);
      return out;
    }
  }
  return source;
}

}  // namespace cargovision
