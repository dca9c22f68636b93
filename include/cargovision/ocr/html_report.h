#pragma once
// demo_ocr's report.html: every crop as read from disk and as fed to the model, its prediction and
// confidence, the ground truth with per-character differences highlighted, errors first (the most
// confident at the top), the word accuracy, and a confidence-vs-errors table: the numbers a user needs
// to pick the confidence below which codes go to a human.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace cargovision::ocr {

struct OcrReportCrop {
  std::string name;
  std::string prediction;
  double confidence = 0;
  std::optional<std::string> ground_truth;
  bool correct = false;
  double norm_ED = 0;
  // The forms the scoring compared (lower-cased, filtered, as ScoringRules say): the diff is shown on these.
  std::string compared_prediction, compared_ground_truth;
  std::string original_uri;     // data URI of the crop as read
  std::string model_input_uri;  // data URI of the imgH x imgW input the model saw
};

// Of the crops with ground truth: how many are read with at least `threshold` confidence, and how
// many of those are wrong; the rest would be routed to a human.
struct ConfidenceBand {
  double threshold = 0;
  std::size_t accepted = 0, accepted_errors = 0;
  std::size_t routed = 0, routed_errors = 0;
};

std::vector<ConfidenceBand> confidence_table(const std::vector<OcrReportCrop>& crops, const std::vector<double>& thresholds);

// 0.1, 0.2, ..., 0.9, 0.95, 0.99.
const std::vector<double>& default_confidence_thresholds();

struct OcrReport {
  std::string saved_model, source, model_description;
  double ms_per_image = 0;
  std::size_t unreadable = 0;
  std::vector<OcrReportCrop> crops;
};

// Errors first, the most confident at the top; then the rest in reading order.
std::vector<std::size_t> report_order(const std::vector<OcrReportCrop>& crops);

// The ground truth and the prediction as HTML, differing characters wrapped in spans (class "sub",
// "missing" or "extra").
struct HighlightedPair {
  std::string ground_truth, prediction;
};
HighlightedPair highlight_differences(const std::string& compared_prediction, const std::string& compared_ground_truth);

std::string format_ocr_report_html(const OcrReport& report);

}  // namespace cargovision::ocr
