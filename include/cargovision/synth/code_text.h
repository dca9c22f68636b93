#pragma once
// What a code crop says and how it is laid out: the code formats painted on wagons and containers,
// split into the groups and lines they are painted in (BEAU 265693 [1], owner code above the serial),
// and the label a recognizer must read from it (the characters in reading order, no spaces).

#include <cstdint>
#include <string>
#include <vector>

namespace cargovision {

class NumpyRandom;

enum class CodeFormat {
  kFourDigits,            // 3801
  kWagonLong,             // 983S11B41: 3 digits, letter, 2 digits, letter, 2 digits
  kWagonShort,            // 8093T42B: 4 digits, letter, 2 digits, letter
  kLetterDigitsLetters,   // C1051BAA: letter, 4 digits, 3 letters
  kTwoLettersSixDigits,   // FB875209
  kIso6346,               // container number: owner code + U/J/Z, 6 digits, check digit (MSCU1234565)
  kSizeType,              // ISO 6346 size-type code: 22G1, 45R1, L5G1
  kDigitRun,              // 5 to 12 digits (UIC wagon numbers, serials)
  kAlphanumeric,          // 3 to 12 random letters and digits: codes of no known format
};

std::string random_code(CodeFormat format, NumpyRandom& random);
// The ISO 6346 check digit of the first 10 characters (owner, category, serial).
int iso6346_check_digit(const std::string& first_ten);
// A character's value in that sum: digits as themselves, A=10, B=12, ... (multiples of 11 skipped).
int iso6346_value(char c);

struct CodeGroup {
  std::string text;
  bool boxed = false;  // drawn inside a rectangle, as a container's check digit
};

struct CodeLayout {
  std::string label;                          // what the crop reads: every group in reading order
  std::vector<std::vector<CodeGroup>> lines;  // top to bottom, groups left to right
};

// The painted forms a code takes: containers as "BEAU 265693 [1]" on one, two or three lines, wagon
// codes in one piece or split at their letters, others in one group.
CodeLayout random_layout(const std::string& code, CodeFormat format, NumpyRandom& random);

// A format drawn with the share each has in the training stream (containers and wagon codes most).
CodeFormat random_format(NumpyRandom& random);

}  // namespace cargovision
