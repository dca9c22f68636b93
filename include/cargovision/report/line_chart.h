#pragma once
// Training curves as people expect to read them: title, labelled axes with round-number ticks, a
// legend, gaps where a value is missing (NaN), and marked points (the best epoch or iteration).
// Drawn with OpenCV so the apps need no plotting library.

#include <opencv2/core.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cargovision::report {

// An axis range widened to round numbers, with its ticks at steps of 1, 2 or 5 times a power of ten.
struct ChartAxis {
  double low = 0, high = 1, step = 0.2;
  std::vector<double> ticks;
};

// At most max_ticks ticks covering [low, high]; an empty or degenerate range is widened around its value.
ChartAxis nice_axis(double low, double high, int max_ticks);

struct ChartSeries {
  std::string name;
  std::vector<double> x, y;  // same length; NaN or infinite y leaves a gap
  cv::Scalar color;          // BGR
};

struct ChartMarker {
  double x = 0, y = 0;
  std::string label;  // written beside the point, e.g. "best 0.183 (epoch 7)"
  cv::Scalar color;
};

struct LineChartOptions {
  LineChartOptions() = default;
  LineChartOptions(std::string chart_title, std::string x_axis_label, std::string y_axis_label)
      : title(std::move(chart_title)), x_label(std::move(x_axis_label)), y_label(std::move(y_axis_label)) {}

  std::string title, x_label, y_label;
  int width = 560, height = 380;
  std::optional<double> y_min, y_max;  // fixed ends (accuracy 0..1); otherwise from the data
  int max_ticks = 6;
};

class LineChart {
 public:
  LineChart(LineChartOptions options, std::vector<ChartSeries> series, std::vector<ChartMarker> markers = {});

  cv::Mat render() const;  // BGR, options.width x options.height
  cv::Point to_pixel(double x, double y) const;  // where a data point lands in render()'s image
  const ChartAxis& x_axis() const { return x_axis_; }
  const ChartAxis& y_axis() const { return y_axis_; }

 private:
  LineChartOptions options_;
  std::vector<ChartSeries> series_;
  std::vector<ChartMarker> markers_;
  ChartAxis x_axis_, y_axis_;
  cv::Rect plot_area_;
};

// Puts panels side by side on a white background (their heights may differ).
cv::Mat side_by_side(const std::vector<cv::Mat>& panels);

}  // namespace cargovision::report
