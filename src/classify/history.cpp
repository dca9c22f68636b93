#include "cargovision/classify/history.h"

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/plot.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "cargovision/core/atomic_file.h"
#include "cargovision/io/csv.h"

namespace cargovision {

void to_json(nlohmann::json& j, const EpochRecord& r) {
  j = nlohmann::json{{"epoch", r.epoch},
                     {"loss", r.loss},
                     {"accuracy", r.accuracy},
                     {"val_loss", r.val_loss},
                     {"val_accuracy", r.val_accuracy},
                     {"learning_rate", r.learning_rate},
                     {"seconds", r.seconds},
                     {"backbone_frozen", r.backbone_frozen},
                     {"checkpoint_saved", r.checkpoint_saved}};
}

void from_json(const nlohmann::json& j, EpochRecord& r) {
  // JSON has no NaN: a diverged epoch's losses were written as null.
  const auto number = [&](const char* key) {
    const auto& value = j.at(key);
    return value.is_null() ? std::numeric_limits<double>::quiet_NaN() : value.get<double>();
  };
  r.epoch = j.at("epoch").get<int>();
  r.loss = number("loss");
  r.accuracy = number("accuracy");
  r.val_loss = number("val_loss");
  r.val_accuracy = number("val_accuracy");
  r.learning_rate = number("learning_rate");
  r.seconds = number("seconds");
  r.backbone_frozen = j.at("backbone_frozen").get<bool>();
  r.checkpoint_saved = j.at("checkpoint_saved").get<bool>();
}

namespace {

constexpr int kPanelWidth = 480;
constexpr int kPanelHeight = 320;

cv::Mat render_series(const std::vector<double>& values, double low, double high, const cv::Scalar& color) {
  cv::Mat xs(static_cast<int>(values.size()), 1, CV_64F);
  cv::Mat ys(static_cast<int>(values.size()), 1, CV_64F);
  for (size_t i = 0; i < values.size(); ++i) {
    xs.at<double>(static_cast<int>(i)) = static_cast<double>(i + 1);
    ys.at<double>(static_cast<int>(i)) = std::isfinite(values[i]) ? values[i] : high;
  }
  auto plot = cv::plot::Plot2d::create(xs, ys);
  plot->setMinX(1);
  plot->setMaxX(std::max<double>(2, static_cast<double>(values.size())));
  plot->setMinY(low);
  plot->setMaxY(high);
  plot->setPlotSize(kPanelWidth, kPanelHeight);
  plot->setPlotBackgroundColor(cv::Scalar(255, 255, 255));
  plot->setPlotAxisColor(cv::Scalar(120, 120, 120));
  plot->setPlotGridColor(cv::Scalar(225, 225, 225));
  plot->setPlotTextColor(cv::Scalar(60, 60, 60));
  plot->setPlotLineColor(color);
  plot->setPlotLineWidth(2);
  plot->setNeedPlotLine(true);
  plot->setShowText(false);
  plot->setInvertOrientation(true);  // Plot2d draws larger values lower unless inverted
  cv::Mat image;
  plot->render(image);
  return image;
}

// Two series on shared axes: Plot2d draws one series, so the second is rendered on identical axes and
// its line pixels are copied over the first.
cv::Mat render_panel(const std::string& title, const std::vector<double>& train, const std::vector<double>& validation) {
  double low = std::numeric_limits<double>::infinity();
  double high = -low;
  for (const auto* series : {&train, &validation}) {
    for (double v : *series) {
      if (std::isfinite(v)) {
        low = std::min(low, v);
        high = std::max(high, v);
      }
    }
  }
  if (!std::isfinite(low)) low = 0, high = 1;
  const double margin = std::max(1e-3, (high - low) * 0.1);
  low = low >= 0 ? std::max(0.0, low - margin) : low - margin;  // losses and accuracies never go below 0
  high += margin;
  const cv::Scalar train_color(200, 80, 30);       // blue (BGR)
  const cv::Scalar validation_color(30, 120, 230);  // orange
  cv::Mat plot = render_series(train, low, high, train_color);
  const cv::Mat other = render_series(validation, low, high, validation_color);
  cv::Mat mask;
  cv::inRange(other, validation_color, validation_color, mask);
  other.copyTo(plot, mask);
  constexpr int kHeader = 34;
  cv::Mat panel(kPanelHeight + kHeader, kPanelWidth, CV_8UC3, cv::Scalar(255, 255, 255));
  plot.copyTo(panel(cv::Rect(0, kHeader, kPanelWidth, kPanelHeight)));
  const auto text = [&](const std::string& words, int x, int y, double scale, const cv::Scalar& color) {
    cv::putText(panel, words, {x, y}, cv::FONT_HERSHEY_SIMPLEX, scale, color, 1, cv::LINE_AA);
  };
  text(title, 8, 22, 0.65, {0, 0, 0});
  text(fmt::format("y {:.3g} .. {:.3g}, x epochs 1..{}", low, high, std::max<size_t>(2, train.size())), 110, 22, 0.4,
       {90, 90, 90});
  text("train", kPanelWidth - 135, 22, 0.5, train_color);
  text("validation", kPanelWidth - 85, 22, 0.5, validation_color);
  return panel;
}

}  // namespace

std::string format_history_csv(const std::vector<EpochRecord>& history) {
  std::string csv = csv_line({"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds",
                              "backbone_frozen", "checkpoint_saved"});
  for (const auto& r : history) {
    csv += csv_line({std::to_string(r.epoch), fmt::format("{:.6f}", r.loss), fmt::format("{:.6f}", r.accuracy),
                     fmt::format("{:.6f}", r.val_loss), fmt::format("{:.6f}", r.val_accuracy),
                     fmt::format("{:g}", r.learning_rate), fmt::format("{:.1f}", r.seconds),
                     r.backbone_frozen ? "1" : "0", r.checkpoint_saved ? "1" : "0"});
  }
  return csv;
}

void write_history(const std::vector<EpochRecord>& history, const std::string& directory) {
  const std::filesystem::path dir(directory);
  write_file_atomically(dir / "history.csv", format_history_csv(history));
  if (history.empty()) return;
  std::vector<double> loss, val_loss, accuracy, val_accuracy;
  for (const auto& r : history) {
    loss.push_back(r.loss);
    val_loss.push_back(r.val_loss);
    accuracy.push_back(r.accuracy);
    val_accuracy.push_back(r.val_accuracy);
  }
  cv::Mat figure;
  cv::hconcat(render_panel("loss", loss, val_loss), render_panel("accuracy", accuracy, val_accuracy), figure);
  std::vector<uchar> png;
  cv::imencode(".png", figure, png);
  write_file_atomically(dir / "history.png", std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

}  // namespace cargovision
