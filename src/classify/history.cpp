#include "cargovision/classify/history.h"

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>

#include "cargovision/core/atomic_file.h"
#include "cargovision/io/csv.h"
#include "cargovision/report/line_chart.h"

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

const cv::Scalar kTrainColour(180, 100, 30), kValidationColour(30, 120, 230), kBestColour(40, 160, 40);

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
  std::vector<double> epochs, loss, val_loss, accuracy, val_accuracy;
  for (const auto& r : history) {
    epochs.push_back(r.epoch);
    loss.push_back(r.loss);
    val_loss.push_back(r.val_loss);
    accuracy.push_back(r.accuracy);
    val_accuracy.push_back(r.val_accuracy);
  }
  // The epoch with the lowest val_loss is the one best-val_loss checkpointing kept: marked on both panels.
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (std::isfinite(val_loss[i]) && (!best || val_loss[i] < val_loss[*best])) best = i;
  }
  std::vector<report::ChartMarker> loss_marker, accuracy_marker;
  if (best) {
    loss_marker.push_back({epochs[*best], val_loss[*best],
                           fmt::format("best val_loss {:.4f} (epoch {})", val_loss[*best], history[*best].epoch), kBestColour});
    accuracy_marker.push_back({epochs[*best], val_accuracy[*best],
                               fmt::format("val_accuracy {:.4f} (epoch {})", val_accuracy[*best], history[*best].epoch),
                               kBestColour});
  }
  report::LineChartOptions loss_options{"loss", "epoch", "binary cross-entropy"};
  loss_options.y_min = 0;
  report::LineChartOptions accuracy_options{"accuracy", "epoch", "accuracy"};
  accuracy_options.y_min = 0;
  accuracy_options.y_max = 1;
  const report::LineChart loss_chart(loss_options,
                                     {{"train", epochs, loss, kTrainColour}, {"validation", epochs, val_loss, kValidationColour}},
                                     loss_marker);
  const report::LineChart accuracy_chart(
      accuracy_options, {{"train", epochs, accuracy, kTrainColour}, {"validation", epochs, val_accuracy, kValidationColour}},
      accuracy_marker);
  const cv::Mat figure = report::side_by_side({loss_chart.render(), accuracy_chart.render()});
  std::vector<uchar> png;
  cv::imencode(".png", figure, png);
  write_file_atomically(dir / "history.png", std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

}  // namespace cargovision
