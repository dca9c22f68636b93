#include "cargovision/ocr/metrics.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "cargovision/ocr/text.h"

namespace cargovision::ocr {

std::size_t edit_distance(const std::u32string& a, const std::u32string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

double normalized_edit_similarity(const std::string& prediction, const std::string& ground_truth) {
  const auto pred = decode_utf8(prediction, "prediction");
  const auto gt = decode_utf8(ground_truth, "ground truth");
  if (pred.empty() || gt.empty()) return 0.0;
  return 1.0 - static_cast<double>(edit_distance(pred, gt)) / static_cast<double>(std::max(pred.size(), gt.size()));
}

SampleScore score_prediction(const std::string& prediction, const std::string& ground_truth, const ScoringRules& rules) {
  std::string gt = dataset_label(ground_truth, rules.sensitive, rules.character, "ground truth");
  std::string pred = prediction;
  if (rules.sensitive && rules.data_filtering_off) {
    gt = alphanumeric_lower(gt);
    pred = alphanumeric_lower(pred);
  }
  const bool correct = pred == gt;
  const double similarity = normalized_edit_similarity(pred, gt);
  return SampleScore{correct, similarity, std::move(pred), std::move(gt)};
}

std::string alphanumeric_lower(const std::string& text) {
  std::u32string kept;
  for (char32_t c : to_lower(decode_utf8(text, "label"))) {
    if ((c >= U'0' && c <= U'9') || (c >= U'a' && c <= U'z')) kept.push_back(c);
  }
  return encode_utf8(kept);
}

}  // namespace cargovision::ocr
