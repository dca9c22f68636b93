#include "cargovision/ocr/converter.h"

#include <fmt/format.h>

#include <set>

#include "cargovision/core/error.h"
#include "cargovision/ocr/text.h"

namespace cargovision::ocr {

void check_character_set(const std::string& character) {
  const std::u32string chars = decode_utf8(character, "--character");
  require(!chars.empty(), "--character is empty");
  std::set<char32_t> seen;
  for (char32_t c : chars) {
    require(seen.insert(c).second, "--character holds '{}' twice: every character must appear once",
            encode_utf8(std::u32string(1, c)));
  }
}

LabelConverter::LabelConverter(const std::string& character, std::vector<std::u32string> specials)
    : tokens_(std::move(specials)) {
  check_character_set(character);
  for (char32_t c : decode_utf8(character, "--character")) {
    index_.emplace(c, static_cast<int64_t>(tokens_.size()));
    tokens_.push_back(std::u32string(1, c));
  }
}

int64_t LabelConverter::index_of(char32_t c, const std::string& label) const {
  const auto found = index_.find(c);
  require(found != index_.end(), "label '{}' holds '{}', which is not in --character", label,
          encode_utf8(std::u32string(1, c)));
  return found->second;
}

CtcLabelConverter::CtcLabelConverter(const std::string& character) : LabelConverter(character, {U"[CTCblank]"}) {}

EncodedText CtcLabelConverter::encode(const std::vector<std::string>& labels, int64_t batch_max_length) const {
  auto text = torch::zeros({static_cast<int64_t>(labels.size()), batch_max_length}, torch::kLong);
  auto length = torch::zeros({static_cast<int64_t>(labels.size())}, torch::kLong);
  for (std::size_t b = 0; b < labels.size(); ++b) {
    const std::u32string label = decode_utf8(labels[b], "label");
    require(static_cast<int64_t>(label.size()) <= batch_max_length, "label '{}' is longer than batch_max_length {}",
            labels[b], batch_max_length);
    for (std::size_t i = 0; i < label.size(); ++i) text[b][i] = index_of(label[i], labels[b]);
    length[b] = static_cast<int64_t>(label.size());
  }
  return {text, length};
}

std::vector<std::string> CtcLabelConverter::decode(const torch::Tensor& indices) const {
  const auto cpu = indices.to(torch::kCPU, torch::kLong).contiguous();
  const auto access = cpu.accessor<int64_t, 2>();
  std::vector<std::string> result;
  for (int64_t b = 0; b < cpu.size(0); ++b) {
    std::u32string text;
    for (int64_t t = 0; t < cpu.size(1); ++t) {
      const int64_t index = access[b][t];
      if (index != 0 && !(t > 0 && access[b][t - 1] == index)) text += tokens_.at(static_cast<std::size_t>(index));
    }
    result.push_back(encode_utf8(text));
  }
  return result;
}

std::vector<double> CtcLabelConverter::confidence(const torch::Tensor& probabilities_max, const torch::Tensor&) const {
  const auto product = probabilities_max.to(torch::kCPU, torch::kDouble).prod(1);
  return std::vector<double>(product.data_ptr<double>(), product.data_ptr<double>() + product.numel());
}

AttnLabelConverter::AttnLabelConverter(const std::string& character) : LabelConverter(character, {U"[GO]", U"[s]"}) {}

EncodedText AttnLabelConverter::encode(const std::vector<std::string>& labels, int64_t batch_max_length) const {
  auto text = torch::zeros({static_cast<int64_t>(labels.size()), batch_max_length + 2}, torch::kLong);
  auto length = torch::zeros({static_cast<int64_t>(labels.size())}, torch::kLong);
  for (std::size_t b = 0; b < labels.size(); ++b) {
    const std::u32string label = decode_utf8(labels[b], "label");
    require(static_cast<int64_t>(label.size()) <= batch_max_length, "label '{}' is longer than batch_max_length {}",
            labels[b], batch_max_length);
    for (std::size_t i = 0; i < label.size(); ++i) text[b][static_cast<int64_t>(i) + 1] = index_of(label[i], labels[b]);
    text[b][static_cast<int64_t>(label.size()) + 1] = 1;  // [s]
    length[b] = static_cast<int64_t>(label.size()) + 1;
  }
  return {text, length};
}

std::vector<std::string> AttnLabelConverter::decode(const torch::Tensor& indices) const {
  const auto cpu = indices.to(torch::kCPU, torch::kLong).contiguous();
  const auto access = cpu.accessor<int64_t, 2>();
  std::vector<std::string> result;
  for (int64_t b = 0; b < cpu.size(0); ++b) {
    std::u32string text;
    for (int64_t t = 0; t < cpu.size(1) && access[b][t] != 1; ++t) {
      text += tokens_.at(static_cast<std::size_t>(access[b][t]));  // a stray [GO] shows, as in the original
    }
    result.push_back(encode_utf8(text));
  }
  return result;
}

std::vector<double> AttnLabelConverter::confidence(const torch::Tensor& probabilities_max,
                                                   const torch::Tensor& indices) const {
  const auto probs_cpu = probabilities_max.to(torch::kCPU, torch::kDouble).contiguous();
  const auto index_cpu = indices.to(torch::kCPU, torch::kLong).contiguous();
  const auto probs = probs_cpu.accessor<double, 2>();
  const auto index = index_cpu.accessor<int64_t, 2>();
  std::vector<double> result;
  for (int64_t b = 0; b < probs_cpu.size(0); ++b) {
    double product = 1.0;
    int64_t steps = 0;
    for (; steps < probs_cpu.size(1) && index[b][steps] != 1; ++steps) product *= probs[b][steps];
    result.push_back(steps == 0 ? 0.0 : product);
  }
  return result;
}

std::unique_ptr<LabelConverter> make_converter(const std::string& prediction, const std::string& character) {
  if (prediction == "CTC") return std::make_unique<CtcLabelConverter>(character);
  require(prediction == "Attn", "unknown Prediction '{}' (valid: CTC, Attn)", prediction);
  return std::make_unique<AttnLabelConverter>(character);
}

}  // namespace cargovision::ocr
