#include "cargovision/ocr/shipped_model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "cargovision/core/error.h"
#include "cargovision/io/json_file.h"
#include "cargovision/io/state_dict.h"
#include "cargovision_build_config.h"

namespace cargovision::ocr {
namespace fs = std::filesystem;
namespace {

fs::path executable_dir() {
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::path() : self.parent_path();
}

bool is_grid_constant(const std::string& key) {
  return key.find("GridGenerator.inv_delta_C") != std::string::npos || key.find("GridGenerator.P_hat") != std::string::npos;
}

// What a demo or fine-tune needs to rebuild the model: architecture, input and alphabet.
const char* const kPackagedOptionKeys[] = {
    "Transformation", "FeatureExtraction", "SequenceModeling", "Prediction", "num_fiducial", "input_channel",
    "output_channel", "hidden_size", "imgH", "imgW", "rgb", "PAD", "sensitive", "character", "batch_max_length"};

}  // namespace

std::string shipped_model_path() {
  const std::string file = std::string(kShippedModelName) + ".pth";
  std::vector<fs::path> candidates;
  if (const char* models = std::getenv("CARGOVISION_MODELS"); models != nullptr && *models != '\0') {
    candidates.push_back(fs::path(models) / file);
  }
  const fs::path exe = executable_dir();
  if (!exe.empty()) {
    candidates.push_back(exe / ".." / "share" / "cargovision" / "models" / file);
    candidates.push_back(exe / ".." / ".." / "data" / "models" / file);
  }
  candidates.push_back(fs::path(CARGOVISION_INSTALL_MODELS_DIR) / file);
  candidates.push_back(fs::path(CARGOVISION_SOURCE_DIR) / "data" / "models" / file);
  std::vector<std::string> looked;
  for (const auto& candidate : candidates) {
    const std::string path = candidate.lexically_normal().string();
    if (fs::is_regular_file(path)) return path;
    // A build tree inside the source tree reaches the same folder twice: name it once.
    if (std::find(looked.begin(), looked.end(), path) == looked.end()) looked.push_back(path);
  }
  throw Error(fmt::format("the shipped recognizer {} was not found (looked in {}); give --saved_model", file,
                          fmt::join(looked, ", ")));
}

OcrDemoOptions packaged_model_options(const std::string& stem) {
  const std::string model = stem + ".pth", config = stem + ".json";
  require(fs::is_regular_file(model), "{}: no such recognizer package (pack_ocr_model writes <stem>.pth and .json)", model);
  require(fs::is_regular_file(config), "{}: the package's options file is missing beside {}", config, model);
  OcrDemoOptions options = load_ocr_demo_options(config);
  options.saved_model = model;
  return options;
}

OcrDemoOptions shipped_demo_options() {
  const std::string model = shipped_model_path();
  return packaged_model_options(fs::path(model).replace_extension().string());
}

std::size_t pack_ocr_model(const PackOptions& options) {
  require(!options.output_stem.empty(), "pack: no output name given");
  require(!options.checkpoints.empty(), "pack: no checkpoint given");
  nlohmann::json packaged;
  for (const std::string& checkpoint : options.checkpoints) {
    const fs::path sidecar = checkpoint + ".json";
    require(fs::is_regular_file(sidecar), "{}: no options sidecar beside the checkpoint (a train_ocr checkpoint has one)",
            sidecar.string());
    const nlohmann::json saved = read_json_file(sidecar.string());
    require(saved.contains("options") && saved.at("options").is_object(), "{}: has no \"options\" object",
            sidecar.string());
    nlohmann::json these;
    for (const char* key : kPackagedOptionKeys) {
      require(saved.at("options").contains(key), "{}: option '{}' missing", sidecar.string(), key);
      these[key] = saved.at("options").at(key);
      if (!packaged.is_null() && packaged.at(key) != these.at(key)) {
        throw Error(fmt::format("{}: option '{}' is {}, the first checkpoint's {}: only one architecture's weights can be averaged",
                                sidecar.string(), key, these.at(key).dump(), packaged.at(key).dump()));
      }
    }
    if (packaged.is_null()) packaged = these;
  }

  // The mean in double precision, so a long list adds no rounding of its own; counters (integers) and
  // the TPS grid constants (the same in every checkpoint of an architecture) are the first checkpoint's.
  StateDict mean = load_state_dict_file(options.checkpoints.front());
  for (auto& item : mean) {
    if (item.value().is_floating_point()) item.value() = item.value().to(torch::kDouble);
  }
  for (std::size_t index = 1; index < options.checkpoints.size(); ++index) {
    const std::string& checkpoint = options.checkpoints[index];
    const StateDict state = load_state_dict_file(checkpoint);
    require(state.size() == mean.size(), "{}: holds {} tensors, {} holds {}", checkpoint, state.size(),
            options.checkpoints.front(), mean.size());
    for (auto& item : mean) {
      const torch::Tensor* other = state.find(item.key());
      require(other != nullptr, "{}: key '{}' missing (present in {})", checkpoint, item.key(), options.checkpoints.front());
      require(other->sizes() == item.value().sizes(), "{}: key '{}' has shape {}, {} has {}", checkpoint, item.key(),
              shape_string(*other), options.checkpoints.front(), shape_string(item.value()));
      if (item.value().is_floating_point() && !is_grid_constant(item.key())) item.value().add_(other->to(torch::kDouble));
    }
  }
  const double count = static_cast<double>(options.checkpoints.size());
  StateDict converted;
  for (const auto& item : mean) {
    torch::Tensor value = item.value();
    if (value.is_floating_point()) {
      if (!is_grid_constant(item.key())) value = value / count;
      value = value.to(options.half && !is_grid_constant(item.key()) ? torch::kHalf : torch::kFloat);
    }
    converted.insert(item.key(), value.contiguous());
  }
  const std::string pth = options.output_stem + ".pth";
  save_state_dict(converted, pth);
  write_json_file(options.output_stem + ".json", packaged);
  return static_cast<std::size_t>(fs::file_size(pth));
}

}  // namespace cargovision::ocr
