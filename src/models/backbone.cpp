#include "cargovision/models/backbone.h"

#include "cargovision/core/error.h"
#include "cargovision/models/efficientnet.h"
#include "cargovision/models/mobilenet_v2.h"
#include "cargovision/models/resnet.h"

namespace cargovision::models {

const std::vector<std::string>& backbone_names() {
  static const std::vector<std::string> kNames = {"resnet18",  "resnet34",     "resnet50",       "resnet101",
                                                  "resnet152", "mobilenet_v2", "efficientnet_b0"};
  return kNames;
}

Backbone make_backbone(const std::string& name, int64_t num_classes) {
  Backbone backbone;
  backbone.name = name;
  if (name.rfind("resnet", 0) == 0) {
    int depth = 0;
    try {
      depth = std::stoi(name.substr(6));
    } catch (const std::exception&) {
      depth = 0;
    }
    if (depth == 18 || depth == 34 || depth == 50 || depth == 101 || depth == 152) {
      ResNet net(ResNetOptions{depth, num_classes});
      backbone.feature_channels = net->feature_channels();
      backbone.pointer = net.ptr();
      backbone.module = torch::nn::AnyModule(net);
      return backbone;
    }
  } else if (name == "mobilenet_v2") {
    MobileNetV2Options options;
    options.num_classes = num_classes;
    MobileNetV2 net(options);
    backbone.feature_channels = net->feature_channels();
    backbone.pointer = net.ptr();
    backbone.module = torch::nn::AnyModule(net);
    return backbone;
  } else if (name == "efficientnet_b0") {
    EfficientNetOptions options;
    options.num_classes = num_classes;
    EfficientNet net(options);
    backbone.feature_channels = net->feature_channels();
    backbone.pointer = net.ptr();
    backbone.module = torch::nn::AnyModule(net);
    return backbone;
  }
  std::string known;
  for (const auto& n : backbone_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown backbone '" + name + "' (available: " + known + ")");
}

std::vector<std::string> classifier_prefixes(const std::string& name) {
  if (name.rfind("resnet", 0) == 0) return {"fc."};
  return {"classifier."};
}

}  // namespace cargovision::models
