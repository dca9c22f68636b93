// The cargo classifier as one ONNX graph: the backbone, the head's average pooling and Dense layers (Dropout
// is the identity at inference), and the sigmoid of the logit.
#include <nlohmann/json.hpp>

#include "cargovision/export/onnx_models.h"
#include "cargovision_build_config.h"
#include "module_emitter.h"

namespace cargovision {

std::string classifier_onnx(CargoClassifier& model, const ClassifierSidecar& sidecar, int opset) {
  using onnx_export::ElementType;
  model->eval();
  torch::NoGradGuard no_grad;
  onnx_export::GraphBuilder g("cargo_classifier_" + model->backbone_name());
  onnx_export::ModuleEmitter emit(g);
  const std::string size = std::to_string(sidecar.image_size);
  g.input("image", ElementType::kFloat, {"batch", "3", size, size});
  // Backbone keys are torchvision's, without a prefix, as in best.pt.
  const auto feature_map = emit.module(model->backbone(), "", "image");
  auto x = g.node("ReduceMean", {feature_map}, {{"axes", std::vector<int64_t>{2, 3}}, {"keepdims", int64_t{0}}}, "pooled");
  auto& head = *model->head;
  if (head.hidden) x = emit.linear(*head.hidden, "head.hidden", x);
  x = emit.linear(*head.output, "head.output", x);  // [B, 1]
  const auto logit = g.node("Squeeze", {x, g.int64s("axis_1", {1})});
  g.output(logit, "logit", ElementType::kFloat, {"batch"});
  g.output(g.node("Sigmoid", {logit}), "probability", ElementType::kFloat, {"batch"});

  nlohmann::json normalization = {{"name", sidecar.normalization}, {"rescale", "pixel / 255"}};
  if (sidecar.normalization == "imagenet") {
    normalization["mean"] = {0.485, 0.456, 0.406};
    normalization["std"] = {0.229, 0.224, 0.225};
    normalization["formula"] = "(pixel / 255 - mean) / std per RGB channel";
  } else {
    normalization["formula"] = "pixel / 255";
  }
  g.metadata("cargovision.model", "classifier");
  g.metadata("backbone", model->backbone_name());
  g.metadata("classes", nlohmann::json(sidecar.class_names).dump());
  g.metadata("input", nlohmann::json{{"layout", "RGB, channels first"},
                                     {"size", sidecar.image_size},
                                     {"resize", sidecar.resize},
                                     {"normalization", normalization}}
                          .dump());
  g.metadata("threshold", "0.5");
  return g.serialize(opset, CARGOVISION_VERSION_STRING);
}

}  // namespace cargovision
