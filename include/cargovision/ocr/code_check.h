#pragma once
// Check-digit repair of ISO 6346 container numbers. A container number carries its own check digit
// (owner code of three letters, category U, J or Z, six serial digits, then the check digit), so a
// reading shaped like one whose digit does not check is wrong somewhere. Among the strings that do
// check, the most probable under the recognizer's own per-character probabilities is what it most
// likely shows: the repair changes a character only where the model itself hesitated. A reading that
// already checks, or is not shaped like a container number, is left alone.

#include <opencv2/core.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cargovision::ocr {

struct Recognition;

enum class CodeCheck { kIso6346, kNone };
// "iso6346" or "none" (demo_ocr's --code_check); anything else is an error naming the valid values.
CodeCheck parse_code_check(const std::string& name);

// How much less probable than the reading a repair may be. The repairs that put right held-out readings
// cost factors of 0.03 to 0.96; a reading that fails its check is wrong anyway, so the bound is loose.
inline constexpr double kMinRepairRatio = 1e-4;

struct CodeRepair {
  std::u32string text;
  double probability_ratio = 1.0;  // the repaired reading's probability over the read one's
};

// `reading`: the text read, one step per character; `probabilities[i]`: the class probabilities
// (softmax) at the step that gave character i; class first_class + k is character k of `character`
// (the recognizer's character set). A repair that would cost more than min_probability_ratio of the
// reading's probability is not made.
std::optional<CodeRepair> repair_iso6346(const std::u32string& reading, const std::vector<std::vector<float>>& probabilities,
                                         const std::u32string& character, int first_class,
                                         double min_probability_ratio = kMinRepairRatio);

// Reads a batch of crops (the images the recognizer's input is made from) as the caller reads them.
using CropReader = std::function<Recognition(const std::vector<cv::Mat>&)>;

// The horizontal bands a crop is cut into to read a number stacked over two lines (owner code above
// the serial) or three (the check digit below): cuts around the middle, or the thirds, each band a little
// taller than its share so that a line near a cut keeps its strokes.
std::vector<std::vector<cv::Rect>> stacked_line_cuts(cv::Size crop);

// Checks every reading of a batch (predictions and confidences updated in place); returns how many
// changed. With `crops` and `read`: a reading shaped like a container number that does not check is
// first read again line by line (stacked_line_cuts: a recognizer that reads along the width invents
// an owner code on top of a stacked number), and the most confident line-by-line reading that checks
// replaces it, its confidence the product of its lines': as read, or repaired by the check digit over the
// lines' probabilities when `read` returns logits. What is left is repaired by the check digit
// (repair_iso6346): Attn readings use their decoding steps, CTC readings the frame where each character
// peaked.
std::size_t apply_code_check(Recognition& recognition, CodeCheck check, const std::string& character, bool ctc,
                             const std::vector<cv::Mat>& crops = {}, const CropReader& read = {});

// A reader that reads with `read` and checks what it read with apply_code_check (stacked numbers read again
// line by line with `read`): how demo_ocr and CodeRecognizer read a crop again (ocr/reread.h).
CropReader checked_reader(CropReader read, CodeCheck check, std::string character, bool ctc);

}  // namespace cargovision::ocr
