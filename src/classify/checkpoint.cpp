#include "cargovision/classify/checkpoint.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "cargovision/core/error.h"
#include "cargovision/io/checkpoint_sidecar.h"
#include "cargovision/io/json_file.h"

namespace cargovision {
namespace {

const std::string kBackbonePrefix = "backbone.";
const std::string kFormat = "cargovision-classifier";
constexpr int kFormatVersion = 1;

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

}  // namespace

void to_json(nlohmann::json& j, const ClassifierSidecar& s) {
  j = nlohmann::json{{"format", kFormat},
                     {"format_version", kFormatVersion},
                     {"backbone", s.backbone},
                     {"dense", s.dense},
                     {"dropout", s.dropout},
                     {"image_size", s.image_size},
                     {"resize", s.resize},
                     {"normalization", s.normalization},
                     {"class_names", s.class_names},
                     {"epoch", s.epoch},
                     {"val_loss", s.val_loss},
                     {"training_options", s.training_options}};
}

void from_json(const nlohmann::json& j, ClassifierSidecar& s) {
  if (j.value("format", std::string()) != kFormat) throw Error("not a cargovision classifier sidecar");
  j.at("backbone").get_to(s.backbone);
  j.at("dense").get_to(s.dense);
  s.dropout = j.value("dropout", 0.25);
  j.at("image_size").get_to(s.image_size);
  s.resize = j.value("resize", std::string("nearest"));
  j.at("normalization").get_to(s.normalization);
  j.at("class_names").get_to(s.class_names);
  s.epoch = j.value("epoch", 0);
  s.val_loss = j.value("val_loss", 0.0);
  s.training_options = j.value("training_options", nlohmann::json::object());
}

std::string sidecar_path(const std::string& checkpoint_path) {
  return std::filesystem::path(checkpoint_path).replace_extension(".json").string();
}

StateDict classifier_file_state(CargoClassifierImpl& model) {
  StateDict file_state;
  for (const auto& item : module_state_dict(model)) {
    const std::string& key = item.key();
    file_state.insert(starts_with(key, kBackbonePrefix) ? key.substr(kBackbonePrefix.size()) : key, item.value());
  }
  return file_state;
}

void save_classifier_checkpoint(CargoClassifierImpl& model, const ClassifierSidecar& sidecar, const std::string& path,
                                const nlohmann::json& extra, const std::vector<std::string>& described) {
  save_state_dict(classifier_file_state(model), path);
  nlohmann::json json = sidecar;
  json.update(extra);
  write_checkpoint_sidecar(sidecar_path(path), json, path, described);
}

LoadedClassifier load_classifier_checkpoint(const std::string& path) {
  if (!std::filesystem::exists(path)) throw Error(path + ": checkpoint not found");
  const std::string json_path = sidecar_path(path);
  if (!std::filesystem::exists(json_path)) {
    throw Error(path + ": sidecar " + json_path + " is missing (it holds the backbone, classes and preprocessing)");
  }
  LoadedClassifier loaded;
  const nlohmann::json sidecar = read_checkpoint_sidecar(json_path, path);  // its errors name the file
  try {
    loaded.sidecar = sidecar.get<ClassifierSidecar>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(json_path + ": malformed sidecar (" + std::string(e.what()) + ")");
  } catch (const Error& e) {
    throw Error(json_path + ": " + e.what());
  }
  if (loaded.sidecar.class_names.size() != 2) {
    throw Error(json_path + ": the classifier is binary but the sidecar lists " +
                std::to_string(loaded.sidecar.class_names.size()) + " classes");
  }
  loaded.model = CargoClassifier(CargoClassifierOptions{loaded.sidecar.backbone, loaded.sidecar.dense,
                                                        loaded.sidecar.dropout});
  // The file holds torchvision's backbone keys unprefixed and the head under "head.": load each part
  // into its own module so that messages name keys as they appear in the file.
  StateDict backbone_state;
  StateDict head_state;
  for (const auto& item : load_state_dict_file(path)) {
    const std::string& key = item.key();
    if (starts_with(key, "head.")) {
      head_state.insert(key.substr(5), item.value());
    } else {
      backbone_state.insert(key, item.value());
    }
  }
  load_into_module(loaded.model->backbone(), backbone_state, path);
  LoadPolicy head_policy;
  head_policy.key_prefix = "head.";
  load_into_module(*loaded.model->head, head_state, path, head_policy);
  loaded.model->eval();
  return loaded;
}

LoadReport load_backbone_weights(CargoClassifierImpl& model, const std::string& path) {
  StateDict file_state = load_state_dict_file(path);
  StateDict backbone_state;
  std::size_t ignored = 0;
  const auto skip_prefixes = models::classifier_prefixes(model.backbone_name());
  for (const auto& item : file_state) {
    std::string key = item.key();
    if (starts_with(key, "module.")) key = key.substr(7);  // saved through DataParallel
    bool skip = false;
    for (const auto& prefix : skip_prefixes) skip = skip || starts_with(key, prefix);
    if (skip) {
      ++ignored;
      continue;
    }
    backbone_state.insert(key, item.value());
  }
  LoadReport report = load_into_module(model.backbone(), backbone_state, path);
  spdlog::info("loaded {} backbone tensors from {} ({} classifier tensors ignored)", report.loaded.size(), path,
               ignored);
  return report;
}

}  // namespace cargovision
