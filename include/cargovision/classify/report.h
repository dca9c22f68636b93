#pragma once
// The seed's test.py CSV: one row per image with columns "Image list, GT, Prediction, accuracy" (plus
// our probability), then the rows "Average Accuracy" and "Inference Speed(ms)".

#include <optional>
#include <string>
#include <vector>

namespace cargovision {

struct PredictionRow {
  std::string image;                        // path relative to the test folder
  std::optional<std::string> ground_truth;  // class name; empty for a flat folder
  std::string prediction;                   // class name
  double probability = 0.0;                 // P(class 1)
};

std::string format_test_report(const std::vector<PredictionRow>& rows, std::optional<double> average_accuracy,
                               double ms_per_image);

}  // namespace cargovision
