#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <vector>

namespace cargovision {

// Binary classification counts with class 1 ("loaded") as the positive class.
struct BinaryMetrics {
  std::size_t true_positive = 0, false_positive = 0, true_negative = 0, false_negative = 0;
  std::size_t total() const { return true_positive + false_positive + true_negative + false_negative; }
  double accuracy() const;
  double precision() const;  // 0 when nothing was predicted positive
  double recall() const;
  double f1() const;
  nlohmann::json to_json() const;  // includes confusion_matrix [[tn, fp], [fn, tp]] (rows = truth)
};

BinaryMetrics compute_binary_metrics(const std::vector<int>& truth, const std::vector<int>& predicted);

}  // namespace cargovision
