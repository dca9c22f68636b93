#pragma once
// Label <-> index converters of the original: CTC (blank = 0, characters from 1) and Attn ([GO] = 0,
// [s] = 1, characters from 2). Characters are Unicode code points of the `character` option.

#include <torch/torch.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace cargovision::ocr {

struct EncodedText {
  torch::Tensor text;    // [B, L] int64
  torch::Tensor length;  // [B] int64
};

class LabelConverter {
 public:
  virtual ~LabelConverter() = default;
  virtual EncodedText encode(const std::vector<std::string>& labels, int64_t batch_max_length) const = 0;
  // Index sequences [B, T] -> strings; CTC collapses repeats and drops blanks, Attn cuts at [s].
  virtual std::vector<std::string> decode(const torch::Tensor& indices) const = 0;
  // Per-sample confidence: product of the per-step maximum probabilities over the steps that made the
  // prediction (all T for CTC; up to, not including, [s] for Attn; 0 for an empty Attn prediction).
  virtual std::vector<double> confidence(const torch::Tensor& probabilities_max, const torch::Tensor& indices) const = 0;
  int64_t num_class() const { return static_cast<int64_t>(tokens_.size()); }

 protected:
  explicit LabelConverter(const std::string& character, std::vector<std::u32string> specials);
  int64_t index_of(char32_t c, const std::string& label) const;
  std::vector<std::u32string> tokens_;  // index -> token (specials first)
  std::unordered_map<char32_t, int64_t> index_;
};

class CtcLabelConverter : public LabelConverter {
 public:
  explicit CtcLabelConverter(const std::string& character);
  EncodedText encode(const std::vector<std::string>& labels, int64_t batch_max_length) const override;
  std::vector<std::string> decode(const torch::Tensor& indices) const override;
  std::vector<double> confidence(const torch::Tensor& probabilities_max, const torch::Tensor& indices) const override;
};

class AttnLabelConverter : public LabelConverter {
 public:
  explicit AttnLabelConverter(const std::string& character);
  // text [B, batch_max_length + 2] = [GO] label [s] [GO]...; length = label length + 1.
  EncodedText encode(const std::vector<std::string>& labels, int64_t batch_max_length) const override;
  std::vector<std::string> decode(const torch::Tensor& indices) const override;
  std::vector<double> confidence(const torch::Tensor& probabilities_max, const torch::Tensor& indices) const override;
};

// Throws Error naming a duplicated character.
void check_character_set(const std::string& character);

std::unique_ptr<LabelConverter> make_converter(const std::string& prediction, const std::string& character);

}  // namespace cargovision::ocr
