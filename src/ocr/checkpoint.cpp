#include "cargovision/ocr/checkpoint.h"

#include <fmt/format.h>

#include <filesystem>
#include <regex>

#include "cargovision/core/error.h"
#include "cargovision/io/checkpoint_sidecar.h"

namespace cargovision::ocr {
namespace {

constexpr const char* kPrefix = "module.";

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// The row count of the final classification layer (Attn: Prediction.generator, CTC: Prediction), or -1.
int64_t class_count(const StateDict& state) {
  for (const char* key : {"Prediction.generator.weight", "Prediction.weight"}) {
    if (const torch::Tensor* weight = state.find(key)) return weight->size(0);
  }
  return -1;
}

// Which option to change when a checkpoint does not fit the model the options built: a strict load's
// "unexpected key" or "shape" alone leaves a user guessing between a dozen flags.
std::string option_hint(const StateDict& file, const StateDict& model) {
  const std::pair<const char*, const char*> stages[] = {
      {"Transformation", "--Transformation (None|TPS) or --num_fiducial"},
      {"FeatureExtraction", "--FeatureExtraction (VGG|RCNN|ResNet), --output_channel, --input_channel or --rgb"},
      {"SequenceModeling", "--SequenceModeling (None|BiLSTM) or --hidden_size"},
      {"Prediction", "--Prediction (CTC|Attn) or --hidden_size"}};
  const int64_t file_classes = class_count(file);
  const int64_t model_classes = class_count(model);
  const bool same_prediction_kind = (file.find("Prediction.weight") != nullptr) == (model.find("Prediction.weight") != nullptr);
  if (same_prediction_kind && file_classes > 0 && model_classes > 0 && file_classes != model_classes) {
    return fmt::format("the checkpoint reads {} classes and these options give {}: --sensitive and --character "
                       "decide the count (characters + 1 for CTC, + 2 for Attn)", file_classes, model_classes);
  }
  for (const auto& [stage, flags] : stages) {
    const std::string prefix = std::string(stage) + ".";
    for (const auto& item : model) {
      if (!starts_with(item.key(), prefix)) continue;
      const torch::Tensor* stored = file.find(item.key());
      if (stored == nullptr || stored->sizes() != item.value().sizes()) {
        return fmt::format("its {} stage differs from these options: check {}", stage, flags);
      }
    }
    for (const auto& item : file) {
      if (starts_with(item.key(), prefix) && model.find(item.key()) == nullptr) {
        return fmt::format("its {} stage differs from these options: check {}", stage, flags);
      }
    }
  }
  return "";
}

}  // namespace

void save_ocr_checkpoint(const torch::nn::Module& model, const std::string& path, const nlohmann::json& sidecar,
                         const std::vector<std::string>& described) {
  StateDict prefixed;
  for (const auto& item : module_state_dict(model)) prefixed.insert(kPrefix + item.key(), item.value());
  save_state_dict(prefixed, path);
  write_checkpoint_sidecar(path + ".json", sidecar, path, described);
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
  try {
    return load_into_module(model, state, path, policy);
  } catch (const Error& e) {
    const std::string hint = option_hint(state, module_state_dict(model));
    if (hint.empty()) throw;
    throw Error(fmt::format("{}; {}", e.what(), hint));
  }
}

int checkpoint_iteration(const std::string& path) {
  const std::string sidecar = path + ".json";
  if (std::filesystem::exists(sidecar)) {
    const auto json = read_checkpoint_sidecar(sidecar, path);
    if (json.contains("iteration")) return json.at("iteration").get<int>();
  }
  std::smatch match;
  const std::string name = std::filesystem::path(path).filename().string();
  if (std::regex_search(name, match, std::regex("_(\\d+)\\.pth$"))) return std::stoi(match[1].str());
  return 0;
}

}  // namespace cargovision::ocr
