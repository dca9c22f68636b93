#pragma once
// Labels as Unicode code points: the original counts label length and filters characters per code
// point (Python str), not per byte.

#include <string>
#include <string_view>

namespace cargovision::ocr {

// The original's default character set (case-insensitive) and the one --sensitive selects:
// string.printable[:-6], the 94 printable ASCII characters without whitespace.
inline constexpr const char* kCaseInsensitiveCharacters = "0123456789abcdefghijklmnopqrstuvwxyz";
inline constexpr const char* kSensitiveCharacters =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

// Throws Error "<origin>: invalid UTF-8 ..." on malformed input.
std::u32string decode_utf8(std::string_view text, const std::string& origin);
std::string encode_utf8(std::u32string_view text);

// Lower-cases ASCII letters and the Latin-1/Latin Extended-A capitals Python's str.lower() maps
// one-to-one; other code points are kept.
std::u32string to_lower(std::u32string text);

// A dataset label as the original's LmdbDataset hands it to the model: lower-cased unless `sensitive`,
// characters outside `character` removed. Throws Error naming `origin` on malformed UTF-8.
std::string dataset_label(std::string_view utf8, bool sensitive, const std::u32string& character, const std::string& origin);

}  // namespace cargovision::ocr
