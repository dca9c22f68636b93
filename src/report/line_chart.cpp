#include "cargovision/report/line_chart.h"

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "cargovision/core/error.h"

namespace cargovision::report {

ChartAxis nice_axis(double low, double high, int max_ticks) {
  require(max_ticks >= 2, "a chart axis needs at least 2 ticks, got {}", max_ticks);
  require(std::isfinite(low) && std::isfinite(high) && low <= high, "bad chart range [{}, {}]", low, high);
  if (high - low < 1e-12 * std::max(1.0, std::abs(high))) {
    const double pad = low == 0 ? 1.0 : std::abs(low) * 0.1;
    low -= pad;
    high += pad;
  }
  // The smallest 1/2/5 x 10^k step that covers the range in at most max_ticks - 1 intervals.
  const double raw = (high - low) / (max_ticks - 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  ChartAxis axis;
  for (double factor : {1.0, 2.0, 5.0, 10.0, 20.0}) {
    axis.step = factor * magnitude;
    axis.low = std::floor(low / axis.step + 1e-9) * axis.step;
    axis.high = std::ceil(high / axis.step - 1e-9) * axis.step;
    if (std::lround((axis.high - axis.low) / axis.step) <= max_ticks - 1) break;
  }
  const long count = std::lround((axis.high - axis.low) / axis.step);
  for (long i = 0; i <= count; ++i) {
    double tick = axis.low + static_cast<double>(i) * axis.step;
    if (std::abs(tick) < axis.step * 1e-9) tick = 0;  // no "-0"
    axis.ticks.push_back(tick);
  }
  return axis;
}

namespace {

constexpr int kLeft = 72, kRight = 18, kTop = 44, kBottom = 52;
const cv::Scalar kInk(40, 40, 40), kGrid(228, 228, 228), kFrame(150, 150, 150), kWhite(255, 255, 255);

std::string tick_label(double value, double step) {
  const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  return fmt::format("{:.{}f}", value, decimals);
}

void put_text(cv::Mat& image, const std::string& text, cv::Point origin, double scale, const cv::Scalar& color,
              int thickness = 1) {
  cv::putText(image, text, origin, cv::FONT_HERSHEY_SIMPLEX, scale, color, thickness, cv::LINE_AA);
}

cv::Size text_size(const std::string& text, double scale, int thickness = 1) {
  int baseline = 0;
  return cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &baseline);
}

}  // namespace

LineChart::LineChart(LineChartOptions options, std::vector<ChartSeries> series, std::vector<ChartMarker> markers)
    : options_(std::move(options)), series_(std::move(series)), markers_(std::move(markers)) {
  require(options_.width > kLeft + kRight + 40 && options_.height > kTop + kBottom + 40,
          "chart '{}' is too small ({}x{})", options_.title, options_.width, options_.height);
  double x_low = std::numeric_limits<double>::infinity(), x_high = -x_low;
  double y_low = x_low, y_high = -x_low;
  for (const auto& s : series_) {
    require(s.x.size() == s.y.size(), "chart series '{}' has {} x and {} y values", s.name, s.x.size(), s.y.size());
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i])) continue;
      x_low = std::min(x_low, s.x[i]);
      x_high = std::max(x_high, s.x[i]);
      if (!std::isfinite(s.y[i])) continue;
      y_low = std::min(y_low, s.y[i]);
      y_high = std::max(y_high, s.y[i]);
    }
  }
  if (!std::isfinite(x_low)) x_low = 0, x_high = 1;
  if (!std::isfinite(y_low)) y_low = 0, y_high = 1;
  if (options_.y_min) y_low = *options_.y_min;
  if (options_.y_max) y_high = *options_.y_max;
  y_high = std::max(y_high, y_low);
  x_axis_ = nice_axis(x_low, x_high, options_.max_ticks);
  y_axis_ = nice_axis(y_low, y_high, options_.max_ticks);
  plot_area_ = cv::Rect(kLeft, kTop, options_.width - kLeft - kRight, options_.height - kTop - kBottom);
}

cv::Point LineChart::to_pixel(double x, double y) const {
  const double u = (x - x_axis_.low) / (x_axis_.high - x_axis_.low);
  const double v = (y - y_axis_.low) / (y_axis_.high - y_axis_.low);
  return {plot_area_.x + static_cast<int>(std::lround(u * (plot_area_.width - 1))),
          plot_area_.y + plot_area_.height - 1 - static_cast<int>(std::lround(v * (plot_area_.height - 1)))};
}

cv::Mat LineChart::render() const {
  cv::Mat image(options_.height, options_.width, CV_8UC3, kWhite);
  const int bottom = plot_area_.y + plot_area_.height - 1, right = plot_area_.x + plot_area_.width - 1;
  constexpr double kTickScale = 0.4;
  for (double tick : y_axis_.ticks) {
    const int y = to_pixel(x_axis_.low, tick).y;
    cv::line(image, {plot_area_.x, y}, {right, y}, kGrid, 1);
    cv::line(image, {plot_area_.x - 4, y}, {plot_area_.x, y}, kFrame, 1);
    const std::string label = tick_label(tick, y_axis_.step);
    const cv::Size size = text_size(label, kTickScale);
    put_text(image, label, {plot_area_.x - 7 - size.width, y + size.height / 2}, kTickScale, kInk);
  }
  for (double tick : x_axis_.ticks) {
    const int x = to_pixel(tick, y_axis_.low).x;
    cv::line(image, {x, plot_area_.y}, {x, bottom}, kGrid, 1);
    cv::line(image, {x, bottom}, {x, bottom + 4}, kFrame, 1);
    const std::string label = tick_label(tick, x_axis_.step);
    const cv::Size size = text_size(label, kTickScale);
    put_text(image, label, {x - size.width / 2, bottom + 8 + size.height}, kTickScale, kInk);
  }
  cv::rectangle(image, plot_area_, kFrame, 1);

  // Lines are clipped to the plot area: a fixed y range may cut off an outlier.
  cv::Mat plot = image(plot_area_);
  const cv::Point origin(plot_area_.x, plot_area_.y);
  for (const auto& s : series_) {
    bool have_previous = false;
    cv::Point previous;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        have_previous = false;
        continue;
      }
      const cv::Point p = to_pixel(s.x[i], s.y[i]) - origin;
      if (have_previous) cv::line(plot, previous, p, s.color, 2, cv::LINE_AA);
      else if (i + 1 == s.x.size() || !std::isfinite(s.y[i + 1])) cv::circle(plot, p, 2, s.color, cv::FILLED, cv::LINE_AA);
      previous = p;
      have_previous = true;
    }
  }
  for (const auto& m : markers_) {
    if (!std::isfinite(m.x) || !std::isfinite(m.y)) continue;
    const cv::Point p = to_pixel(m.x, m.y);
    cv::circle(image, p, 6, m.color, cv::FILLED, cv::LINE_AA);
    cv::circle(image, p, 6, kInk, 1, cv::LINE_AA);
    if (!m.label.empty()) {
      const cv::Size size = text_size(m.label, 0.42);
      // Beside the point, flipped to stay inside the plot.
      int x = p.x + 10;
      if (x + size.width > right) x = p.x - 10 - size.width;
      int y = p.y - 10;
      if (y - size.height < plot_area_.y) y = p.y + 10 + size.height;
      cv::rectangle(image, {x - 2, y - size.height - 3}, {x + size.width + 2, y + 4}, kWhite, cv::FILLED);
      put_text(image, m.label, {x, y}, 0.42, kInk);
    }
  }

  put_text(image, options_.title, {kLeft, 22}, 0.6, kInk, 1);
  // Legend, right-aligned on the title line.
  int legend_x = options_.width - kRight;
  for (auto it = series_.rbegin(); it != series_.rend(); ++it) {
    const cv::Size size = text_size(it->name, 0.45);
    legend_x -= size.width;
    put_text(image, it->name, {legend_x, 36}, 0.45, kInk);
    legend_x -= 24;
    cv::line(image, {legend_x, 31}, {legend_x + 18, 31}, it->color, 3, cv::LINE_AA);
    legend_x -= 14;
  }
  const cv::Size x_size = text_size(options_.x_label, 0.5);
  put_text(image, options_.x_label, {plot_area_.x + (plot_area_.width - x_size.width) / 2, options_.height - 10}, 0.5,
           kInk);
  // The y label is drawn horizontally on its own canvas and turned a quarter to the left.
  const cv::Size y_size = text_size(options_.y_label, 0.5);
  if (y_size.width > 0) {
    cv::Mat label(y_size.height + 8, y_size.width + 4, CV_8UC3, kWhite);
    put_text(label, options_.y_label, {2, y_size.height + 2}, 0.5, kInk);
    cv::rotate(label, label, cv::ROTATE_90_COUNTERCLOCKWISE);
    const int top = std::max(0, plot_area_.y + (plot_area_.height - label.rows) / 2);
    const int rows = std::min(label.rows, options_.height - top);
    label(cv::Rect(0, 0, label.cols, rows)).copyTo(image(cv::Rect(6, top, label.cols, rows)));
  }
  return image;
}

cv::Mat side_by_side(const std::vector<cv::Mat>& panels) {
  require(!panels.empty(), "no chart panels to place side by side");
  int width = 0, height = 0;
  for (const auto& panel : panels) {
    width += panel.cols;
    height = std::max(height, panel.rows);
  }
  cv::Mat figure(height, width, CV_8UC3, kWhite);
  int x = 0;
  for (const auto& panel : panels) {
    panel.copyTo(figure(cv::Rect(x, 0, panel.cols, panel.rows)));
    x += panel.cols;
  }
  return figure;
}

}  // namespace cargovision::report
