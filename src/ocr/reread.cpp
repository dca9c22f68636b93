#include "cargovision/ocr/reread.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <string>

#include "cargovision/core/error.h"
#include "cargovision/ocr/recognize.h"

namespace cargovision::ocr {

std::vector<cv::Mat> reading_variants(const cv::Mat& crop) {
  std::vector<cv::Mat> variants;
  if (crop.empty()) return variants;
  const int height = crop.rows, width = crop.cols;
  // Framing: where the crop's edge cuts a glyph or a neighbouring mark enters it, the reader's alignment
  // (TPS) settles differently.
  cv::Mat wider, wider_sides;
  const int margin = std::max(1, height / 12);
  cv::copyMakeBorder(crop, wider, margin, margin, margin, margin, cv::BORDER_REPLICATE);
  variants.push_back(wider);
  const int trim_x = std::max(1, width / 25), trim_y = std::max(1, height / 25);
  if (width > 2 * trim_x + 2 && height > 2 * trim_y + 2) {
    variants.push_back(crop(cv::Rect(trim_x, trim_y, width - 2 * trim_x, height - 2 * trim_y)).clone());
  }
  const int side = std::max(1, width / 20);
  cv::copyMakeBorder(crop, wider_sides, 0, 0, side, side, cv::BORDER_REPLICATE);
  variants.push_back(wider_sides);
  // A slight turn: codes painted or photographed a little askew.
  for (const double degrees : {2.5, -2.5}) {
    const cv::Mat turn = cv::getRotationMatrix2D(cv::Point2f(width / 2.0f, height / 2.0f), degrees, 1.0);
    cv::Mat turned;
    cv::warpAffine(crop, turned, turn, crop.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    variants.push_back(turned);
  }
  // Faded paint and haze: the contrast stretched to the full range.
  cv::Mat stretched;
  cv::normalize(crop, stretched, 0, 255, cv::NORM_MINMAX);
  variants.push_back(stretched);
  // Blur: an unsharp mask.
  cv::Mat blurred, sharpened;
  cv::GaussianBlur(crop, blurred, cv::Size(0, 0), 1.0);
  cv::addWeighted(crop, 1.8, blurred, -0.8, 0, sharpened);
  variants.push_back(sharpened);
  return variants;
}

std::size_t reread_uncertain(Recognition& recognition, const std::vector<cv::Mat>& crops, double below,
                             const CropReader& read) {
  require(crops.size() == recognition.predictions.size() && crops.size() == recognition.confidence.size(),
          "reread_uncertain: {} crops for {} readings", crops.size(), recognition.predictions.size());
  std::vector<cv::Mat> variants;
  std::vector<std::size_t> owner;
  for (std::size_t i = 0; i < crops.size(); ++i) {
    if (!(recognition.confidence[i] < below) || crops[i].empty()) continue;
    for (cv::Mat& variant : reading_variants(crops[i])) {
      variants.push_back(std::move(variant));
      owner.push_back(i);
    }
  }
  if (variants.empty()) return 0;
  const Recognition again = read(variants);
  require(again.predictions.size() == variants.size() && again.confidence.size() == variants.size(),
          "the crop reader returned {} readings for {} crops", again.predictions.size(), variants.size());
  const std::vector<std::string> first = recognition.predictions;
  for (std::size_t v = 0; v < variants.size(); ++v) {
    const std::size_t i = owner[v];
    if (again.confidence[v] > recognition.confidence[i]) {
      recognition.predictions[i] = again.predictions[v];
      recognition.confidence[i] = again.confidence[v];
    }
  }
  std::size_t changed = 0;
  for (std::size_t i = 0; i < first.size(); ++i) changed += first[i] != recognition.predictions[i] ? 1 : 0;
  return changed;
}

}  // namespace cargovision::ocr
