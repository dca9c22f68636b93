#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace cargovision {

// Parses a JSON file; errors name the file and the parse position.
nlohmann::json read_json_file(const std::string& path);

// Pretty-printed, written atomically.
void write_json_file(const std::string& path, const nlohmann::json& value);

// Fails with "<origin>: unknown option 'x' (known: ...)" when `given` holds a key `reference` lacks,
// recursing into nested objects: a typo in a config must not be silently ignored.
void check_known_keys(const nlohmann::json& given, const nlohmann::json& reference, const std::string& origin);

}  // namespace cargovision
