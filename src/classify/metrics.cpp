#include "cargovision/classify/metrics.h"

#include "cargovision/core/error.h"

namespace cargovision {
namespace {
double ratio(std::size_t numerator, std::size_t denominator) {
  return denominator == 0 ? 0.0 : static_cast<double>(numerator) / static_cast<double>(denominator);
}
}  // namespace

double BinaryMetrics::accuracy() const { return ratio(true_positive + true_negative, total()); }
double BinaryMetrics::precision() const { return ratio(true_positive, true_positive + false_positive); }
double BinaryMetrics::recall() const { return ratio(true_positive, true_positive + false_negative); }
double BinaryMetrics::f1() const {
  const double p = precision();
  const double r = recall();
  return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
}

nlohmann::json BinaryMetrics::to_json() const {
  return {{"images", total()},
          {"accuracy", accuracy()},
          {"precision", precision()},
          {"recall", recall()},
          {"f1", f1()},
          {"confusion_matrix", {{true_negative, false_positive}, {false_negative, true_positive}}},
          {"confusion_matrix_layout", "rows: ground truth [0, 1]; columns: prediction [0, 1]"}};
}

BinaryMetrics compute_binary_metrics(const std::vector<int>& truth, const std::vector<int>& predicted) {
  if (truth.size() != predicted.size()) throw Error("metrics: truth and prediction counts differ");
  BinaryMetrics m;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const bool positive = truth[i] == 1;
    const bool predicted_positive = predicted[i] == 1;
    if (positive && predicted_positive) ++m.true_positive;
    else if (positive) ++m.false_negative;
    else if (predicted_positive) ++m.false_positive;
    else ++m.true_negative;
  }
  return m;
}

}  // namespace cargovision
