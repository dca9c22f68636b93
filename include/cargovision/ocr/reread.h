#pragma once
// Reading uncertain crops again. A crop read with low confidence sits near the model's decision boundary,
// where a pixel's difference flips a stroke (the same crop decoded by another JPEG path reads differently);
// read again framed, turned and contrasted a little differently, the most confident of its readings is
// right more often than the first one (on held-out generated crops read below 0.6 confidence: 39 % right
// as read, 54-56 % after rereading, two seeds). Crops read with confidence are not read again: demo_ocr and
// CodeRecognizer reread below --reread_below (0.6, about 7 % of held-out generated crops, which then cost
// eight readings each; on the sample's 120 crops demo_ocr's time per crop went 15 -> 45-52 ms).

#include <opencv2/core.hpp>

#include <cstddef>
#include <vector>

#include "cargovision/ocr/code_check.h"

namespace cargovision::ocr {

struct Recognition;

// The crop as read again (not the crop itself): framed wider and tighter, turned 2.5 degrees either way,
// its contrast stretched, its strokes sharpened. Same type and channels as the crop; none for a crop
// too small to frame tighter.
std::vector<cv::Mat> reading_variants(const cv::Mat& crop);

// Reads every crop whose reading's confidence is below `below` again in its reading_variants, with `read`
// (which reads and checks a batch of crops as the first reading was), and keeps the most confident reading
// (the first one on a tie). Updates predictions and confidences in place; the logits stay those of the
// first reading. Returns how many readings changed.
std::size_t reread_uncertain(Recognition& recognition, const std::vector<cv::Mat>& crops, double below,
                             const CropReader& read);

}  // namespace cargovision::ocr
