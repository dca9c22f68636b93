#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "cargovision/core/error.h"

namespace cargovision {

// Parses a JSON file; errors name the file and the parse position.
nlohmann::json read_json_file(const std::string& path);

// Pretty-printed, written atomically.
void write_json_file(const std::string& path, const nlohmann::json& value);

// Fails with "<origin>: unknown option 'x' (known: ...)" when `given` holds a key `reference` lacks,
// recursing into nested objects: a typo in a config must not be silently ignored.
void check_known_keys(const nlohmann::json& given, const nlohmann::json& reference, const std::string& origin);

// An options struct from JSON read from `origin`: unknown keys and ill-typed values are errors naming it;
// absent keys keep the struct's defaults.
template <typename Options>
Options parse_options(const nlohmann::json& given, const std::string& origin) {
  check_known_keys(given, nlohmann::json(Options{}), origin);
  try {
    return given.get<Options>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(origin + ": invalid option value (" + std::string(e.what()) + ")");
  }
}

// The same from a JSON file.
template <typename Options>
Options load_options_file(const std::string& path) {
  return parse_options<Options>(read_json_file(path), path);
}

}  // namespace cargovision
