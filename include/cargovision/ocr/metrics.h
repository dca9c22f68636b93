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

}  // namespace cargovision::ocr
