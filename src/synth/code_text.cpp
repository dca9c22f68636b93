#include "cargovision/synth/code_text.h"

#include "cargovision/core/error.h"
#include "cargovision/data/numpy_random.h"
#include "cargovision/synth/scene_paint.h"

namespace cargovision {
namespace {

char random_digit(NumpyRandom& random) { return static_cast<char>('0' + random_index(random, 10)); }
char random_letter(NumpyRandom& random) { return static_cast<char>('A' + random_index(random, 26)); }

std::string digits(int count, NumpyRandom& random) {
  std::string text;
  for (int i = 0; i < count; ++i) text += random_digit(random);
  return text;
}

std::string letters(int count, NumpyRandom& random) {
  std::string text;
  for (int i = 0; i < count; ++i) text += random_letter(random);
  return text;
}

int random_between(NumpyRandom& random, int low, int high) {
  return low + static_cast<int>(random_index(random, static_cast<std::size_t>(high - low + 1)));
}

std::vector<CodeGroup> groups_of(std::initializer_list<std::string> texts) {
  std::vector<CodeGroup> groups;
  for (const auto& text : texts) groups.push_back({text, false});
  return groups;
}

CodeLayout container_layout(const std::string& code, NumpyRandom& random) {
  const std::string owner = code.substr(0, 4), serial = code.substr(4, 6), check = code.substr(10, 1);
  const bool boxed = random.random_sample() < 0.75;
  CodeLayout layout{code, {}};
  // Mostly on one line. Stacked forms (doors, corner posts) are hard for a recognizer that reads along the
  // width, and at 4 % of the stream they stayed unread (most of the shipped model's misread container
  // numbers): a third of the numbers now.
  const double form = random.random_sample();
  if (form < 0.2) {
    layout.lines = {{{code, false}}};                                             // MSCU1234565
  } else if (form < 0.65) {
    layout.lines = {{{owner, false}, {serial, false}, {check, boxed}}};          // BEAU 265693 [1]
  } else if (form < 0.9) {
    layout.lines = {{{owner, false}}, {{serial, false}, {check, boxed}}};        // BEAU / 265693 [1]
  } else {
    layout.lines = {{{owner, false}}, {{serial, false}}, {{check, boxed}}};      // BEAU / 265693 / [1]
  }
  return layout;
}

}  // namespace

int iso6346_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  require(c >= 'A' && c <= 'Z', "ISO 6346: invalid character '{}'", c);
  const int value = 10 + (c - 'A');
  return value + (value - 1) / 10;  // letters skip the multiples of 11: A=10, B=12, ... K=21, L=23
}

int iso6346_check_digit(const std::string& first_ten) {
  require(first_ten.size() == 10, "ISO 6346 needs 10 characters before the check digit, got '{}'", first_ten);
  int sum = 0;
  for (int i = 0; i < 10; ++i) sum += iso6346_value(first_ten[static_cast<std::size_t>(i)]) << i;
  return (sum % 11) % 10;
}

std::string random_code(CodeFormat format, NumpyRandom& random) {
  switch (format) {
    case CodeFormat::kFourDigits: return digits(4, random);
    case CodeFormat::kWagonLong:
      return digits(3, random) + random_letter(random) + digits(2, random) + random_letter(random) + digits(2, random);
    case CodeFormat::kWagonShort: return digits(4, random) + random_letter(random) + digits(2, random) + random_letter(random);
    case CodeFormat::kLetterDigitsLetters: return random_letter(random) + digits(4, random) + letters(3, random);
    case CodeFormat::kTwoLettersSixDigits: return letters(2, random) + digits(6, random);
    case CodeFormat::kIso6346: {
      static const char categories[] = {'U', 'J', 'Z'};
      const std::string first = letters(3, random) + categories[random_index(random, 3)] + digits(6, random);
      return first + std::to_string(iso6346_check_digit(first));
    }
    case CodeFormat::kSizeType: {
      // Length (1-4, L, M), height (0-9 or letter codes), type group and detail digit.
      static const std::string lengths = "12234444LMLB";
      static const std::string heights = "0225556CEL";
      static const std::string types = "GGGGRRUPTBHVSK";
      return std::string(1, lengths[random_index(random, lengths.size())]) + heights[random_index(random, heights.size())] +
             types[random_index(random, types.size())] + random_digit(random);
    }
    case CodeFormat::kDigitRun: return digits(random_between(random, 5, 12), random);
    case CodeFormat::kAlphanumeric: {
      std::string text;
      const int length = random_between(random, 3, 12);
      for (int i = 0; i < length; ++i) text += random.random_sample() < 0.55 ? random_digit(random) : random_letter(random);
      return text;
    }
  }
  throw Error("unknown code format");
}

CodeLayout random_layout(const std::string& code, CodeFormat format, NumpyRandom& random) {
  if (format == CodeFormat::kIso6346 && code.size() == 11) return container_layout(code, random);
  CodeLayout layout{code, {}};
  if (format == CodeFormat::kWagonLong && random.random_sample() < 0.3) {
    layout.lines = {groups_of({code.substr(0, 3), code.substr(3, 3), code.substr(6)})};  // 983 S11 B41
  } else if (format == CodeFormat::kTwoLettersSixDigits && random.random_sample() < 0.3) {
    layout.lines = {groups_of({code.substr(0, 2), code.substr(2)})};                     // FB 875209
  } else if (format == CodeFormat::kDigitRun && code.size() >= 8 && random.random_sample() < 0.4) {
    const std::size_t cut = code.size() / 2;                                              // 3180 4795
    layout.lines = {groups_of({code.substr(0, cut), code.substr(cut)})};
  } else {
    layout.lines = {groups_of({code})};
  }
  return layout;
}

CodeFormat random_format(NumpyRandom& random) {
  static const std::pair<CodeFormat, double> shares[] = {
      {CodeFormat::kIso6346, 0.26},           {CodeFormat::kWagonLong, 0.14},
      {CodeFormat::kWagonShort, 0.10},        {CodeFormat::kFourDigits, 0.10},
      {CodeFormat::kTwoLettersSixDigits, 0.08}, {CodeFormat::kLetterDigitsLetters, 0.07},
      {CodeFormat::kSizeType, 0.07},          {CodeFormat::kDigitRun, 0.08},
      {CodeFormat::kAlphanumeric, 0.10},
  };
  double draw = random.random_sample();
  for (const auto& [format, share] : shares) {
    if (draw < share) return format;
    draw -= share;
  }
  return CodeFormat::kAlphanumeric;
}

}  // namespace cargovision
