#include "cargovision/ocr/checkpoint.h"

#include <filesystem>
#include <regex>

#include "cargovision/core/error.h"
#include "cargovision/io/json_file.h"

namespace cargovision::ocr {
namespace {

constexpr const char* kPrefix = "module.";

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void save_ocr_checkpoint(const torch::nn::Module& model, const std::string& path, const nlohmann::json& sidecar) {
  StateDict prefixed;
  for (const auto& item : module_state_dict(model)) prefixed.insert(kPrefix + item.key(), item.value());
  save_state_dict(prefixed, path);
  write_json_file(path + ".json", sidecar);
}

LoadReport load_ocr_checkpoint(torch::nn::Module& model, const std::string& path, bool fine_tune) {
  require(std::filesystem::exists(path), "{}: checkpoint not found", path);
  const StateDict stored = load_state_dict_file(path);
  StateDict state;
  for (const auto& item : stored) {
    const std::string& key = item.key();
    state.insert(key.rfind(kPrefix, 0) == 0 ? key.substr(std::char_traits<char>::length(kPrefix)) : key, item.value());
  }
  for (const auto& item : module_state_dict(model)) {
    const bool grid_constant = ends_with(item.key(), "GridGenerator.inv_delta_C") || ends_with(item.key(), "GridGenerator.P_hat");
    if (grid_constant && state.find(item.key()) == nullptr) state.insert(item.key(), item.value().clone());
  }
  LoadPolicy policy;
  policy.strict = !fine_tune;
  policy.key_prefix = kPrefix;
  return load_into_module(model, state, path, policy);
}

int checkpoint_iteration(const std::string& path) {
  const std::string sidecar = path + ".json";
  if (std::filesystem::exists(sidecar)) {
    const auto json = read_json_file(sidecar);
    if (json.contains("iteration")) return json.at("iteration").get<int>();
  }
  std::smatch match;
  const std::string name = std::filesystem::path(path).filename().string();
  if (std::regex_search(name, match, std::regex("_(\\d+)\\.pth$"))) return std::stoi(match[1].str());
  return 0;
}

}  // namespace cargovision::ocr
