#pragma once
// Character-level alignment of a prediction against its ground truth, for showing a reader exactly
// which characters a recognizer got wrong. The alignment is a minimum edit-distance one, so its
// number of non-matching steps equals the edit distance the scoring uses.

#include <string>
#include <vector>

namespace cargovision::report {

enum class DiffKind {
  kMatch,       // predicted == expected
  kSubstitute,  // a wrong character in place of the expected one
  kExtra,       // predicted, but not in the ground truth
  kMissing,     // in the ground truth, not predicted
};

struct DiffStep {
  DiffKind kind;
  char32_t predicted = 0;  // 0 for kMissing
  char32_t expected = 0;   // 0 for kExtra
};

// Ties prefer substitutions, then missing, then extra characters, so "ABCD" vs "ABXD" reads as one
// substitution rather than a deletion and an insertion.
std::vector<DiffStep> diff_characters(const std::u32string& predicted, const std::u32string& expected);

}  // namespace cargovision::report
