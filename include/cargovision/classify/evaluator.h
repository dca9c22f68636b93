#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "cargovision/classify/metrics.h"
#include "cargovision/classify/options.h"
#include "cargovision/classify/report.h"

namespace cargovision {

struct TestSummary {
  std::vector<PredictionRow> rows;
  std::optional<BinaryMetrics> metrics;  // absent for a flat folder (no ground truth)
  std::size_t unreadable_images = 0;
  double model_ms_per_image = 0;         // forward passes only, warm-up excluded
  double total_ms_per_image = 0;         // decoding and preprocessing included
  std::string report_path;
  std::string metrics_path;
  std::string html_path;                 // report.html beside the CSV
};

// Predicts every image of options.test_dir with the checkpoint and writes the CSV report, and beside
// it metrics.json and report.html (thumbnails, Grad-CAM heat maps unless options.cam is off).
TestSummary test_classifier(const TestOptions& options);

}  // namespace cargovision
