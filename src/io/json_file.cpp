#include "cargovision/io/json_file.h"

#include <fstream>
#include <sstream>

#include "cargovision/core/atomic_file.h"
#include "cargovision/core/error.h"

namespace cargovision {

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw Error(path + ": cannot open JSON file");
  try {
    return nlohmann::json::parse(file);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(path + ": invalid JSON (" + std::string(e.what()) + ")");
  }
}

void write_json_file(const std::string& path, const nlohmann::json& value) {
  write_file_atomically(path, value.dump(2) + "\n");
}

void check_known_keys(const nlohmann::json& given, const nlohmann::json& reference, const std::string& origin) {
  if (!given.is_object()) throw Error(origin + ": expected a JSON object");
  for (const auto& item : given.items()) {
    if (!reference.contains(item.key())) {
      std::string known;
      for (const auto& ref : reference.items()) known += (known.empty() ? "" : ", ") + ref.key();
      throw Error(origin + ": unknown option '" + item.key() + "' (known: " + known + ")");
    }
    const auto& expected = reference.at(item.key());
    if (expected.is_object() && item.value().is_object()) {
      check_known_keys(item.value(), expected, origin + " [" + item.key() + "]");
    }
  }
}

}  // namespace cargovision
