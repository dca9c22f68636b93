#include "cargovision/ocr/data_options.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "cargovision/core/error.h"

namespace cargovision::ocr {

std::vector<std::string> split_dashes(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dash = text.find('-', start);
    parts.push_back(text.substr(start, dash - start));
    if (dash == std::string::npos) break;
    start = dash + 1;
  }
  return parts;
}

std::vector<double> parse_batch_ratio(const OcrDataOptions& options) {
  const auto selections = split_dashes(options.select_data);
  const auto ratio_texts = split_dashes(options.batch_ratio);
  // '-' separates the shares, so a minus sign shows up as an empty share before a number.
  const bool negative = (!options.batch_ratio.empty() && options.batch_ratio.front() == '-') ||
                        options.batch_ratio.find("--") != std::string::npos;
  require(!negative,
          "--batch_ratio '{}': a share is negative; each share must be a positive number", options.batch_ratio);
  require(selections.size() == ratio_texts.size(),
          "--batch_ratio '{}' has {} value(s) but --select_data '{}' has {} selection(s): give one ratio per selection",
          options.batch_ratio, ratio_texts.size(), options.select_data, selections.size());
  std::vector<double> ratios;
  for (const auto& text : ratio_texts) {
    std::size_t used = 0;
    double value = 0.0;
    try {
      value = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    require(used == text.size() && !text.empty() && value > 0.0 && std::isfinite(value),
            "--batch_ratio '{}': '{}' is not a positive number", options.batch_ratio, text);
    ratios.push_back(value);
  }
  const double sum = std::accumulate(ratios.begin(), ratios.end(), 0.0);
  if (std::fabs(sum - 1.0) > 0.01) {
    spdlog::warn("--batch_ratio '{}' sums to {:.3f}, not 1: the real batch size will differ from --batch_size",
                 options.batch_ratio, sum);
  }
  return ratios;
}

int per_dataset_batch_size(int batch_size, double ratio) {
  const double product = batch_size * ratio;
  double rounded = std::floor(product);
  const double fraction = product - rounded;
  if (fraction > 0.5 || (fraction == 0.5 && std::fmod(rounded, 2.0) != 0.0)) rounded += 1.0;
  return std::max(static_cast<int>(rounded), 1);
}

}  // namespace cargovision::ocr
