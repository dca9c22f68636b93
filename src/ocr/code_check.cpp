#include "cargovision/ocr/code_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <utility>

#include "cargovision/core/error.h"
#include "cargovision/ocr/recognize.h"
#include "cargovision/ocr/text.h"
#include "cargovision/synth/code_text.h"

namespace cargovision::ocr {

namespace {

constexpr std::size_t kContainerNumberLength = 11;

// The symbols each position of a container number allows.
std::string allowed_at(std::size_t position) {
  if (position < 3) return "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  if (position == 3) return "JUZ";
  return "0123456789";
}

// The recognizer's class for an ISO 6346 symbol: itself, else its lower case (case-insensitive sets).
int class_of(char symbol, const std::u32string& character, int first_class, char32_t* shown) {
  for (const char32_t candidate : {static_cast<char32_t>(symbol), static_cast<char32_t>(std::tolower(symbol))}) {
    const auto at = character.find(candidate);
    if (at != std::u32string::npos) {
      *shown = candidate;
      return first_class + static_cast<int>(at);
    }
  }
  return -1;
}

char32_t upper(char32_t c) { return c >= U'a' && c <= U'z' ? c - U'a' + U'A' : c; }

// Characters of an 11-character reading where a container number allows them.
std::size_t in_place(const std::u32string& reading) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < reading.size() && i < kContainerNumberLength; ++i) {
    const char32_t c = upper(reading[i]);
    count += c < 128 && allowed_at(i).find(static_cast<char>(c)) != std::string::npos ? 1 : 0;
  }
  return count;
}

// Shaped like a container number: eleven characters, at most two out of place (a letter read as a digit...).
bool shaped_like_container_number(const std::u32string& reading) {
  return reading.size() == kContainerNumberLength && in_place(reading) + 2 >= kContainerNumberLength;
}

bool checks_as_container_number(const std::u32string& reading) {
  if (reading.size() != kContainerNumberLength || in_place(reading) != kContainerNumberLength) return false;
  std::string first_ten;
  for (std::size_t i = 0; i < 10; ++i) first_ten += static_cast<char>(upper(reading[i]));
  return iso6346_check_digit(first_ten) == static_cast<int>(upper(reading[10]) - U'0');
}

// The class probabilities behind each character read from row b of softmaxed logits [B, T, classes]: Attn
// readings one decoding step per character (up to `characters`), CTC readings the frame where each character
// peaked.
std::vector<std::vector<float>> character_probabilities(const torch::Tensor& probabilities, int64_t b,
                                                        std::size_t characters, bool ctc) {
  const auto rows = probabilities[b];
  const auto access = rows.accessor<float, 2>();
  const int64_t steps = rows.size(0), classes = rows.size(1);
  std::vector<int64_t> character_steps;
  if (ctc) {
    const auto [top, top_class] = rows.max(1);
    const auto top_access = top.accessor<float, 1>();
    const auto class_access = top_class.accessor<int64_t, 1>();
    for (int64_t t = 0; t < steps; ++t) {
      const int64_t cls = class_access[t];
      if (cls == 0) continue;
      if (t > 0 && class_access[t - 1] == cls) {
        if (top_access[t] > top_access[character_steps.back()]) character_steps.back() = t;
      } else {
        character_steps.push_back(t);
      }
    }
  } else {
    for (int64_t t = 0; t < std::min<int64_t>(steps, static_cast<int64_t>(characters)); ++t) character_steps.push_back(t);
  }
  std::vector<std::vector<float>> result;
  for (const int64_t t : character_steps) result.emplace_back(&access[t][0], &access[t][0] + classes);
  return result;
}

torch::Tensor softmax_of(const Recognition& recognition) {
  return torch::softmax(recognition.logits.to(torch::kCPU, torch::kFloat), 2).contiguous();
}

struct CharacterSet {
  std::u32string characters;
  int first_class;  // class of characters[0]: after [CTCblank], or after [GO] and [s]
  bool ctc;
};

// Decoded only for a batch with something to repair: most batches hold no container number that fails.
CharacterSet character_set(const std::string& character, bool ctc) {
  return {decode_utf8(character, "--character"), ctc ? 1 : 2, ctc};
}

// Line-by-line readings of the crops whose reading is shaped like a container number but does not check;
// returns the readings replaced (marked in `replaced`). Each way of cutting a crop into lines gives one
// candidate: the lines read, joined, if that checks; else, when the reader gave logits, the joined reading
// repaired by its check digit over the lines' own probabilities (one misread stroke in a line of a stacked
// number is as common as in a single line). The most confident candidate wins.
std::size_t read_stacked_numbers(Recognition& recognition, const std::vector<cv::Mat>& crops, const CropReader& read,
                                 const std::string& character, bool ctc, std::vector<bool>& replaced) {
  struct Band {
    std::size_t reading, cut;
  };
  std::vector<cv::Mat> bands;
  std::vector<Band> owners;
  for (std::size_t b = 0; b < crops.size(); ++b) {
    const std::u32string reading = decode_utf8(recognition.predictions[b], "prediction");
    if (!shaped_like_container_number(reading) || checks_as_container_number(reading) || crops[b].empty()) continue;
    const auto cuts = stacked_line_cuts(crops[b].size());
    for (std::size_t c = 0; c < cuts.size(); ++c) {
      for (const cv::Rect& line : cuts[c]) {
        bands.push_back(crops[b](line));
        owners.push_back({b, c});
      }
    }
  }
  if (bands.empty()) return 0;
  const Recognition lines = read(bands);
  require(lines.predictions.size() == bands.size(), "the crop reader returned {} readings for {} bands",
          lines.predictions.size(), bands.size());
  const bool repairable = lines.logits.defined() && lines.logits.dim() == 3 &&
                          lines.logits.size(0) == static_cast<int64_t>(bands.size());
  const torch::Tensor line_probabilities = repairable ? softmax_of(lines) : torch::Tensor();
  const CharacterSet set = character_set(character, ctc);
  std::size_t changed = 0;
  for (std::size_t first = 0; first < bands.size();) {
    const std::size_t b = owners[first].reading;
    double best_confidence = -1.0;
    std::string best;
    while (first < bands.size() && owners[first].reading == b) {
      const std::size_t cut = owners[first].cut;
      std::vector<std::size_t> cut_lines;
      for (; first < bands.size() && owners[first].reading == b && owners[first].cut == cut; ++first) cut_lines.push_back(first);
      std::vector<std::u32string> texts;
      for (const std::size_t line : cut_lines) texts.push_back(decode_utf8(lines.predictions[line], "prediction"));
      // Three lines: the check digit stands alone in its box below the serial, a shape the reader rarely
      // meets, and it tends to read on past the digit into the frame; when the two lines above hold the
      // owner code and serial, only the first character read in the box counts.
      const bool lone_check_digit = texts.size() == 3 && texts[0].size() + texts[1].size() == 10 && texts[2].size() > 1;
      std::u32string candidate;
      double confidence = 1.0;
      std::vector<std::vector<float>> rows;
      bool rows_complete = repairable;
      for (std::size_t k = 0; k < cut_lines.size(); ++k) {
        const std::size_t line = cut_lines[k];
        const bool first_character_only = lone_check_digit && k == 2;
        const std::u32string text = first_character_only ? texts[k].substr(0, 1) : texts[k];
        candidate += text;
        std::vector<std::vector<float>> line_rows;
        if (repairable) {
          line_rows = character_probabilities(line_probabilities, static_cast<int64_t>(line), texts[k].size(), set.ctc);
          if (line_rows.size() != texts[k].size()) rows_complete = false;
          if (first_character_only && !line_rows.empty()) line_rows.resize(1);
          rows.insert(rows.end(), line_rows.begin(), line_rows.end());
        }
        confidence *= first_character_only && !line_rows.empty()
                          ? static_cast<double>(*std::max_element(line_rows[0].begin(), line_rows[0].end()))
                          : static_cast<double>(lines.confidence[line]);
      }
      if (!checks_as_container_number(candidate)) {
        if (!rows_complete || rows.size() != candidate.size()) continue;
        const auto repair = repair_iso6346(candidate, rows, set.characters, set.first_class);
        if (!repair) continue;
        candidate = repair->text;
        confidence *= repair->probability_ratio;
      }
      if (confidence > best_confidence) {
        best_confidence = confidence;
        best = encode_utf8(candidate);
      }
    }
    if (best_confidence < 0.0) continue;
    recognition.predictions[b] = best;
    recognition.confidence[b] = best_confidence;
    replaced[b] = true;
    ++changed;
  }
  return changed;
}

}  // namespace

std::vector<std::vector<cv::Rect>> stacked_line_cuts(cv::Size crop) {
  const int height = crop.height, width = crop.width;
  std::vector<std::vector<cv::Rect>> cuts;
  if (height < 4 || width < 1) return cuts;
  const auto band = [&](int top, int bottom) {
    top = std::clamp(top, 0, height - 1);
    bottom = std::clamp(bottom, top + 1, height);
    return cv::Rect(0, top, width, bottom - top);
  };
  const int two_line_overlap = std::max(1, height / 20), three_line_overlap = std::max(1, height / 25);
  for (const int percent : {40, 45, 50, 55, 60}) {
    const int cut = height * percent / 100;
    cuts.push_back({band(0, cut + two_line_overlap), band(cut - two_line_overlap, height)});
  }
  for (const int percent : {30, 33, 36}) {
    const int upper_cut = height * percent / 100, lower_cut = height * (100 - percent) / 100;
    cuts.push_back({band(0, upper_cut + three_line_overlap), band(upper_cut - three_line_overlap, lower_cut + three_line_overlap),
                    band(lower_cut - three_line_overlap, height)});
  }
  return cuts;
}

CodeCheck parse_code_check(const std::string& name) {
  if (name == "iso6346") return CodeCheck::kIso6346;
  if (name == "none") return CodeCheck::kNone;
  throw Error(fmt::format("--code_check: unknown check '{}' (valid: iso6346, none)", name));
}

// GCC 12 reports moving the repaired u32string into the returned optional as an out-of-bounds copy or read
// (known false positives of its -Warray-bounds and -Wstringop-overread with std::basic_string).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overread"
std::optional<CodeRepair> repair_iso6346(const std::u32string& reading, const std::vector<std::vector<float>>& probabilities,
                                         const std::u32string& character, int first_class, double min_probability_ratio) {
  require(probabilities.size() == reading.size(), "repair_iso6346: {} probability rows for a {}-character reading",
          probabilities.size(), reading.size());
  if (!shaped_like_container_number(reading) || checks_as_container_number(reading)) return std::nullopt;
  const auto log_of = [](float p) { return std::log(std::max(static_cast<double>(p), 1e-30)); };
  double read_log = 0.0;
  for (std::size_t i = 0; i < reading.size(); ++i) {
    const auto at = character.find(reading[i]);
    if (at == std::u32string::npos) return std::nullopt;
    const auto cls = static_cast<std::size_t>(first_class) + at;
    require(cls < probabilities[i].size(), "repair_iso6346: class {} beyond {} probabilities", cls, probabilities[i].size());
    read_log += log_of(probabilities[i][cls]);
  }
  // Best log-probability of the first i symbols per value of their weighted sum mod 11, and the way there.
  constexpr double kNone = -std::numeric_limits<double>::infinity();
  std::array<double, 11> best{};
  best.fill(kNone);
  best[0] = 0.0;
  std::vector<std::array<std::pair<int, char32_t>, 11>> came_from(10);  // (previous sum, symbol shown)
  for (std::size_t i = 0; i < 10; ++i) {
    std::array<double, 11> next{};
    next.fill(kNone);
    for (const char symbol : allowed_at(i)) {
      char32_t shown = 0;
      const int cls = class_of(symbol, character, first_class, &shown);
      if (cls < 0 || static_cast<std::size_t>(cls) >= probabilities[i].size()) continue;
      const double gain = log_of(probabilities[i][static_cast<std::size_t>(cls)]);
      const int weighted = (iso6346_value(symbol) << i) % 11;
      for (int sum = 0; sum < 11; ++sum) {
        if (best[static_cast<std::size_t>(sum)] == kNone) continue;
        const int reached = (sum + weighted) % 11;
        const double score = best[static_cast<std::size_t>(sum)] + gain;
        if (score > next[static_cast<std::size_t>(reached)]) {
          next[static_cast<std::size_t>(reached)] = score;
          came_from[i][static_cast<std::size_t>(reached)] = {sum, shown};
        }
      }
    }
    best = next;
  }
  double best_total = kNone;
  int best_sum = -1;
  char32_t best_check = 0;
  for (int sum = 0; sum < 11; ++sum) {
    if (best[static_cast<std::size_t>(sum)] == kNone) continue;
    char32_t shown = 0;
    const int cls = class_of(static_cast<char>('0' + sum % 10), character, first_class, &shown);
    if (cls < 0 || static_cast<std::size_t>(cls) >= probabilities[10].size()) continue;
    const double total = best[static_cast<std::size_t>(sum)] + log_of(probabilities[10][static_cast<std::size_t>(cls)]);
    if (total > best_total) {
      best_total = total;
      best_sum = sum;
      best_check = shown;
    }
  }
  if (best_sum < 0) return std::nullopt;
  const double ratio = std::exp(best_total - read_log);
  if (ratio < min_probability_ratio) return std::nullopt;
  CodeRepair repair;
  repair.text.assign(kContainerNumberLength, U' ');
  repair.text[10] = best_check;
  for (int i = 9, sum = best_sum; i >= 0; --i) {
    const auto [previous, shown] = came_from[static_cast<std::size_t>(i)][static_cast<std::size_t>(sum)];
    repair.text[static_cast<std::size_t>(i)] = shown;
    sum = previous;
  }
  repair.probability_ratio = ratio;
  return repair;
}
#pragma GCC diagnostic pop

CropReader checked_reader(CropReader read, CodeCheck check, std::string character, bool ctc) {
  return [read = std::move(read), check, character = std::move(character), ctc](const std::vector<cv::Mat>& crops) {
    Recognition recognition = read(crops);
    apply_code_check(recognition, check, character, ctc, crops, read);
    return recognition;
  };
}

std::size_t apply_code_check(Recognition& recognition, CodeCheck check, const std::string& character, bool ctc,
                             const std::vector<cv::Mat>& crops, const CropReader& read) {
  if (check == CodeCheck::kNone || recognition.predictions.empty()) return 0;
  require(crops.empty() || crops.size() == recognition.predictions.size(), "apply_code_check: {} crops for {} readings",
          crops.size(), recognition.predictions.size());
  std::vector<bool> replaced(recognition.predictions.size(), false);
  std::size_t changed = !crops.empty() && read ? read_stacked_numbers(recognition, crops, read, character, ctc, replaced) : 0;
  // The readings left to repair, decoded once; most batches hold none, and then need no second softmax.
  std::vector<std::u32string> to_repair(recognition.predictions.size());
  bool any = false;
  for (std::size_t b = 0; b < to_repair.size(); ++b) {
    if (replaced[b]) continue;
    std::u32string reading = decode_utf8(recognition.predictions[b], "prediction");
    if (!shaped_like_container_number(reading) || checks_as_container_number(reading)) continue;
    to_repair[b] = std::move(reading);
    any = true;
  }
  if (!any) return changed;
  const CharacterSet set = character_set(character, ctc);
  const auto probabilities = softmax_of(recognition);
  for (int64_t b = 0; b < probabilities.size(0); ++b) {
    const std::u32string& reading = to_repair[static_cast<std::size_t>(b)];
    if (reading.empty()) continue;
    auto& prediction = recognition.predictions[static_cast<std::size_t>(b)];
    const auto rows = character_probabilities(probabilities, b, kContainerNumberLength, ctc);
    if (rows.size() != kContainerNumberLength) continue;
    const auto repair = repair_iso6346(reading, rows, set.characters, set.first_class);
    if (!repair) continue;
    prediction = encode_utf8(repair->text);
    recognition.confidence[static_cast<std::size_t>(b)] *= repair->probability_ratio;
    ++changed;
  }
  return changed;
}

}  // namespace cargovision::ocr
