#pragma once
// Backbone registry: a name ("resnet152", "mobilenet_v2", "efficientnet_b0", ...) to a module whose
// forward() returns its last feature map and whose parameter names are torchvision's.

#include <torch/torch.h>

#include <string>
#include <vector>

namespace cargovision::models {

struct Backbone {
  std::string name;
  torch::nn::AnyModule module;
  std::shared_ptr<torch::nn::Module> pointer;
  int64_t feature_channels = 0;
};

const std::vector<std::string>& backbone_names();

// num_classes > 0 keeps torchvision's own pooling + classifier (for parity checks and benchmarks).
Backbone make_backbone(const std::string& name, int64_t num_classes = 0);

// Prefixes of torchvision's classification layers, which a headless backbone does not have.
std::vector<std::string> classifier_prefixes(const std::string& name);

}  // namespace cargovision::models
