#pragma once
// test's report.html: the summary (accuracy, precision/recall/F1, confusion matrix, speed) and every
// test image as a thumbnail with its ground truth, prediction and probability, misclassified images
// first (the most confidently wrong at the top), each with its Grad-CAM heat map when computed.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "cargovision/classify/metrics.h"
#include "cargovision/classify/report.h"

namespace cargovision {

struct ClassifierReportImage {
  PredictionRow row;
  std::string thumbnail_uri;  // data URI (report::jpeg_data_uri)
  std::string heat_map_uri;   // data URI of the Grad-CAM overlay; empty when not computed
};

struct ClassifierReport {
  std::string checkpoint, test_dir, backbone;
  std::vector<std::string> class_names;  // index 1 is the positive class
  double threshold = 0.5;
  std::optional<BinaryMetrics> metrics;  // absent for a flat folder
  double model_ms_per_image = 0, total_ms_per_image = 0;
  std::size_t unreadable_images = 0;
  std::vector<ClassifierReportImage> images;
};

// Misclassified first, most confidently wrong at the top; then the rest in test-folder order.
std::vector<std::size_t> report_order(const std::vector<ClassifierReportImage>& images, double threshold);

std::string format_classifier_report_html(const ClassifierReport& report);

}  // namespace cargovision
