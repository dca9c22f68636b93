#include "cargovision/ocr/text.h"

#include <fmt/format.h>

#include <algorithm>

#include "cargovision/core/error.h"

namespace cargovision::ocr {

std::u32string decode_utf8(std::string_view text, const std::string& origin) {
  std::u32string result;
  result.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    int length = 0;
    char32_t code = 0;
    if (lead < 0x80) { length = 1; code = lead; }
    else if ((lead & 0xE0) == 0xC0) { length = 2; code = lead & 0x1F; }
    else if ((lead & 0xF0) == 0xE0) { length = 3; code = lead & 0x0F; }
    else if ((lead & 0xF8) == 0xF0) { length = 4; code = lead & 0x07; }
    else throw Error(fmt::format("{}: invalid UTF-8 (byte 0x{:02x} at offset {})", origin, lead, i));
    if (i + length > text.size()) throw Error(fmt::format("{}: invalid UTF-8 (truncated sequence at offset {})", origin, i));
    for (int k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) throw Error(fmt::format("{}: invalid UTF-8 (bad continuation byte at offset {})", origin, i + k));
      code = (code << 6) | (next & 0x3F);
    }
    static const char32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      throw Error(fmt::format("{}: invalid UTF-8 (overlong or out-of-range sequence at offset {})", origin, i));
    }
    result.push_back(code);
    i += length;
  }
  return result;
}

std::string encode_utf8(std::u32string_view text) {
  std::string result;
  result.reserve(text.size());
  for (char32_t code : text) {
    if (code < 0x80) {
      result.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      result.push_back(static_cast<char>(0xC0 | (code >> 6)));
      result.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else if (code < 0x10000) {
      result.push_back(static_cast<char>(0xE0 | (code >> 12)));
      result.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      result.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
      result.push_back(static_cast<char>(0xF0 | (code >> 18)));
      result.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
      result.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      result.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
  }
  return result;
}

std::u32string to_lower(std::u32string text) {
  const auto in = [](char32_t c, char32_t lo, char32_t hi) { return c >= lo && c <= hi; };
  for (char32_t& c : text) {
    if (in(c, U'A', U'Z') || (in(c, 0xC0, 0xDE) && c != 0xD7)) {
      c += 32;  // ASCII and Latin-1 capitals
    } else if (((in(c, 0x100, 0x12F) || in(c, 0x132, 0x137) || in(c, 0x14A, 0x177)) && c % 2 == 0) ||
               ((in(c, 0x139, 0x148) || in(c, 0x179, 0x17E)) && c % 2 == 1)) {
      c += 1;  // Latin Extended-A capital/small pairs
    } else if (c == 0x178) {
      c = 0xFF;
    }
  }
  return text;
}

std::string dataset_label(std::string_view utf8, bool sensitive, const std::u32string& character, const std::string& origin) {
  std::u32string label = decode_utf8(utf8, origin);
  if (!sensitive) label = to_lower(std::move(label));
  label.erase(std::remove_if(label.begin(), label.end(),
                             [&](char32_t c) { return character.find(c) == std::u32string::npos; }),
              label.end());
  return encode_utf8(label);
}

}  // namespace cargovision::ocr
