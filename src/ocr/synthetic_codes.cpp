#include "cargovision/ocr/synthetic_codes.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <random>

#include "cargovision/core/error.h"
#include "cargovision/data/numpy_random.h"
#include "cargovision/data/pillow.h"
#include "cargovision/ocr/text.h"

namespace cargovision::ocr {
namespace {

std::uint64_t mix(std::uint64_t value) {  // splitmix64's finaliser
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

std::uint64_t parse_unsigned(const std::string& text, const std::string& whole) {
  std::size_t used = 0;
  unsigned long long value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  require(!text.empty() && used == text.size() && text[0] != '-',
          "'{}': '{}' is not a non-negative whole number (expected synth:COUNT or synth:COUNT:SEED)", whole, text);
  return value;
}

}  // namespace

CodeCropOptions crop_options_for(const OcrDataOptions& options) {
  CodeCropOptions crop;
  crop.legibility_height = options.imgH;
  return crop;
}

SyntheticCodeSource::SyntheticCodeSource(std::uint64_t seed, std::size_t count, const OcrDataOptions& options,
                                         CodeCropOptions crop, std::size_t curriculum_samples)
    : seed_(seed), count_(count), options_(options), character_(decode_utf8(options.character, "--character")),
      crop_(std::move(crop)), curriculum_samples_(curriculum_samples) {
  require(count > 0, "a synthetic set needs at least one sample");
}

OcrSample SyntheticCodeSource::get(std::size_t i) const {
  require(i < count_, "synthetic sample {} out of range ({} samples)", i, count_);
  const std::uint64_t key = mix(seed_ ^ mix(i));
  std::seed_seq seeds{static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32),
                      static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(static_cast<std::uint64_t>(i) >> 32)};
  NumpyRandom random(seeds);
  CodeCropOptions crop = crop_;
  if (curriculum_samples_ > 0 && i < curriculum_samples_) {
    crop.difficulty *= 0.15 + 0.85 * static_cast<double>(i) / static_cast<double>(curriculum_samples_);
  }
  CodeSample generated = random_code_sample(crop, random);
  OcrSample sample;
  cv::Mat rgb;
  cv::cvtColor(generated.image, rgb, cv::COLOR_BGR2RGB);
  sample.image = options_.rgb ? rgb : rgb_to_grey_pillow(rgb);
  // The same label rules as an LMDB sample: lower-cased unless sensitive, unknown characters dropped.
  sample.label = dataset_label(generated.label, options_.sensitive, character_, "synthetic label");
  return sample;
}

std::optional<SyntheticSetSpec> parse_synthetic_set(const std::string& text, std::uint64_t default_seed) {
  const std::string prefix = std::string(kSyntheticSelection) + ":";
  if (text.rfind(prefix, 0) != 0) return std::nullopt;
  const std::string rest = text.substr(prefix.size());
  const std::size_t colon = rest.find(':');
  SyntheticSetSpec spec;
  spec.count = static_cast<std::size_t>(parse_unsigned(rest.substr(0, colon), text));
  require(spec.count > 0, "'{}': a synthetic set needs at least one sample", text);
  spec.seed = colon == std::string::npos ? default_seed : parse_unsigned(rest.substr(colon + 1), text);
  return spec;
}

std::uint64_t training_stream_seed(std::uint32_t manual_seed) {
  return mix(0x747261696e000000ULL ^ manual_seed);  // "train" tag: validation sets use plain seeds
}

}  // namespace cargovision::ocr
