#pragma once
// Validation metrics of the original test.py: exact-match accuracy and ICDAR2019 normalised edit
// distance (per sample 0 when either string is empty, else 1 - ED / max(len)), on code points.

#include <string>

namespace cargovision::ocr {

std::size_t edit_distance(const std::u32string& a, const std::u32string& b);
double normalized_edit_similarity(const std::string& prediction, const std::string& ground_truth);

// With `sensitive` and `data_filtering_off` both set, the original compares lower-cased
// alphanumerics only.
std::string alphanumeric_lower(const std::string& text);

// How predictions are compared with ground truths: one set of rules for train_ocr's validation and
// demo_ocr --gt, so that both report the same accuracy on the same crops.
struct ScoringRules {
  bool sensitive = false;
  bool data_filtering_off = false;
  std::u32string character;  // the model's character set
};

struct SampleScore {
  bool correct = false;
  double norm_ED = 0.0;
  std::string compared_prediction, compared_ground_truth;  // the forms compared, after the rules
};

// The original test.py's rules. The ground truth is first taken as the original's dataset hands it to
// the model (lower-cased unless sensitive, characters outside `character` removed; a no-op for labels
// read through our datasets). With sensitive and data_filtering_off both set, both strings are then
// lower-cased and reduced to alphanumerics. norm_ED is normalized_edit_similarity: 0 when either string
// is empty, an empty prediction of an empty label included, as the original computes it.
SampleScore score_prediction(const std::string& prediction, const std::string& ground_truth, const ScoringRules& rules);

}  // namespace cargovision::ocr
