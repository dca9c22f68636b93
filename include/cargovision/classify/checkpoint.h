#pragma once
// Our classifier checkpoint: `<name>.pt`, a zip file that Python's torch.load reads as a plain dict of
// tensors whose backbone keys are exactly torchvision's (conv1.weight, layer1.0.bn1.running_mean, ...)
// and whose head keys start with "head."; and `<name>.json`, the sidecar with everything `test`
// needs to rebuild the model and its preprocessing.

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "cargovision/classify/model.h"
#include "cargovision/io/state_dict.h"

namespace cargovision {

struct ClassifierSidecar {
  std::string backbone = "resnet152";
  int dense = 0;
  double dropout = 0.25;
  int image_size = 224;
  std::string resize = "nearest";
  std::string normalization = "rescale";
  std::vector<std::string> class_names;
  int epoch = 0;                       // 1-based epoch the weights come from
  double val_loss = 0.0;
  nlohmann::json training_options;     // the effective TrainOptions of the run
};

void to_json(nlohmann::json& j, const ClassifierSidecar& s);
void from_json(const nlohmann::json& j, ClassifierSidecar& s);

std::string sidecar_path(const std::string& checkpoint_path);

// Model state with the internal "backbone." prefix removed, ready for the file.
StateDict classifier_file_state(CargoClassifierImpl& model);

// `path` and its sidecar; `extra` keys go into the sidecar too, which also records the fingerprints of
// the weights and of `described` (files of the same checkpoint written before, io/checkpoint_sidecar.h).
void save_classifier_checkpoint(CargoClassifierImpl& model, const ClassifierSidecar& sidecar, const std::string& path,
                                const nlohmann::json& extra = nlohmann::json::object(),
                                const std::vector<std::string>& described = {});

struct LoadedClassifier {
  CargoClassifier model{nullptr};
  ClassifierSidecar sidecar;
};

// Rebuilds the model from the sidecar and loads the weights strictly; errors name the file and the
// first mismatching key with both shapes (e.g. a checkpoint of another backbone).
LoadedClassifier load_classifier_checkpoint(const std::string& path);

// ImageNet weights for the backbone from a torchvision state dict; torchvision's own classifier
// (fc.* / classifier.*) is ignored, every other key must match.
LoadReport load_backbone_weights(CargoClassifierImpl& model, const std::string& path);

}  // namespace cargovision
