#include "cargovision/classify/report.h"

#include <fmt/format.h>

#include "cargovision/io/csv.h"

namespace cargovision {

std::string format_test_report(const std::vector<PredictionRow>& rows, std::optional<double> average_accuracy,
                               double ms_per_image) {
  std::string csv = csv_line({"Image list", "GT", "Prediction", "accuracy", "probability"});
  for (const auto& row : rows) {
    std::string correct;
    if (row.ground_truth) correct = *row.ground_truth == row.prediction ? "TRUE" : "FALSE";
    csv += csv_line({row.image, row.ground_truth.value_or(""), row.prediction, correct,
                     fmt::format("{:.6f}", row.probability)});
  }
  csv += csv_line({"Average Accuracy", average_accuracy ? fmt::format("{:.4f}", *average_accuracy) : "", "", "", ""});
  csv += csv_line({"Inference Speed(ms)", fmt::format("{:.2f}", ms_per_image), "", "", ""});
  return csv;
}

}  // namespace cargovision
