#include "cargovision/report/heat_map.h"

#include <opencv2/imgproc.hpp>

#include "cargovision/core/error.h"

namespace cargovision::report {

cv::Mat overlay_heat_map(const cv::Mat& image, const cv::Mat& heat, double opacity) {
  require(!image.empty() && image.depth() == CV_8U && (image.channels() == 3 || image.channels() == 1),
          "heat map overlay needs an 8-bit grey or BGR image");
  require(!heat.empty() && heat.type() == CV_32FC1, "heat map must be one float channel, got type {}", heat.type());
  require(opacity >= 0 && opacity <= 1, "heat map opacity must be in [0, 1], got {}", opacity);
  cv::Mat base;
  if (image.channels() == 1) cv::cvtColor(image, base, cv::COLOR_GRAY2BGR);
  else base = image;
  cv::Mat stretched;
  cv::resize(heat, stretched, base.size(), 0, 0, cv::INTER_LINEAR);
  cv::Mat clipped = cv::min(cv::max(stretched, 0.0), 1.0);
  cv::Mat levels;
  clipped.convertTo(levels, CV_8U, 255.0);
  cv::Mat colours;
  cv::applyColorMap(levels, colours, cv::COLORMAP_JET);
  // Per-pixel weight: opacity scaled by the heat, so cold regions stay as they are.
  cv::Mat weight;
  cv::merge(std::vector<cv::Mat>(3, clipped * opacity), weight);
  cv::Mat base_f, colours_f;
  base.convertTo(base_f, CV_32FC3);
  colours.convertTo(colours_f, CV_32FC3);
  cv::Mat ones(weight.size(), CV_32FC3, cv::Scalar::all(1.0));
  cv::Mat blended = base_f.mul(ones - weight) + colours_f.mul(weight);
  cv::Mat out;
  blended.convertTo(out, CV_8UC3);
  return out;
}

}  // namespace cargovision::report
