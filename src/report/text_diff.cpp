#include "cargovision/report/text_diff.h"

#include <algorithm>

namespace cargovision::report {

std::vector<DiffStep> diff_characters(const std::u32string& predicted, const std::u32string& expected) {
  const std::size_t n = predicted.size(), m = expected.size();
  // cost[i][j]: edits turning predicted[0, i) into expected[0, j).
  std::vector<std::vector<std::size_t>> cost(n + 1, std::vector<std::size_t>(m + 1, 0));
  for (std::size_t i = 0; i <= n; ++i) cost[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) cost[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t diagonal = cost[i - 1][j - 1] + (predicted[i - 1] == expected[j - 1] ? 0 : 1);
      cost[i][j] = std::min({diagonal, cost[i - 1][j] + 1, cost[i][j - 1] + 1});
    }
  }
  std::vector<DiffStep> steps;
  std::size_t i = n, j = m;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && cost[i][j] == cost[i - 1][j - 1] + (predicted[i - 1] == expected[j - 1] ? 0 : 1)) {
      const bool same = predicted[i - 1] == expected[j - 1];
      steps.push_back({same ? DiffKind::kMatch : DiffKind::kSubstitute, predicted[i - 1], expected[j - 1]});
      --i, --j;
    } else if (j > 0 && cost[i][j] == cost[i][j - 1] + 1) {
      steps.push_back({DiffKind::kMissing, 0, expected[j - 1]});
      --j;
    } else {
      steps.push_back({DiffKind::kExtra, predicted[i - 1], 0});
      --i;
    }
  }
  std::reverse(steps.begin(), steps.end());
  return steps;
}

}  // namespace cargovision::report
