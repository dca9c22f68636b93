#pragma once
// The code-crop generator as a recognizer data source: `--select_data synth` mixes an endless
// generated stream into the training batches at its --batch_ratio share, and `--valid_data synth:N`
// (or synth:N:SEED) validates on a fixed generated set. Sample i of a stream is rendered from a
// random state derived from (seed, i) alone, so batches are the same for a seed whichever loader
// thread renders them, and a resumed run continues the stream where it stopped.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "cargovision/ocr/data_options.h"
#include "cargovision/ocr/sample_source.h"
#include "cargovision/synth/code_crop.h"

namespace cargovision::ocr {

// The select_data entry that names the generated stream.
inline constexpr const char* kSyntheticSelection = "synth";

// The generator's defaults, with legibility judged at the recognizer's own input height (--imgH).
CodeCropOptions crop_options_for(const OcrDataOptions& options);

class SyntheticCodeSource : public OcrSampleSource {
 public:
  static constexpr std::size_t kEndless = std::numeric_limits<std::size_t>::max();

  // With curriculum_samples > 0, sample i is drawn at difficulty 0.15 + 0.85 * i / curriculum_samples
  // (capped at the crop options' own): clean crops first, the full range of degradations from then on.
  SyntheticCodeSource(std::uint64_t seed, std::size_t count, const OcrDataOptions& options, CodeCropOptions crop = {},
                      std::size_t curriculum_samples = 0);
  std::size_t size() const override { return count_; }
  bool endless() const override { return count_ == kEndless; }
  OcrSample get(std::size_t i) const override;

 private:
  std::uint64_t seed_;
  std::size_t count_;
  OcrDataOptions options_;
  std::u32string character_;
  CodeCropOptions crop_;
  std::size_t curriculum_samples_;
};

struct SyntheticSetSpec {
  std::size_t count = 0;
  std::uint64_t seed = 0;
};

// "synth:N" or "synth:N:SEED" -> the fixed set it names (SEED defaults to `default_seed`); nothing for
// any other text. A malformed "synth:..." is an Error naming the option.
std::optional<SyntheticSetSpec> parse_synthetic_set(const std::string& text, std::uint64_t default_seed);

// The seed of the training stream of a run with this --manualSeed: never equal to a validation set's.
std::uint64_t training_stream_seed(std::uint32_t manual_seed);

}  // namespace cargovision::ocr
