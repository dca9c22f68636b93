#include "cargovision/classify/grad_cam.h"

namespace cargovision {

torch::Tensor grad_cam(const LogitsOfFeatures& logits_of_features, const torch::Tensor& feature_map,
                       const torch::Tensor& explain_positive) {
  TORCH_CHECK(feature_map.dim() == 4, "grad_cam: feature map must be [B, C, h, w], got ", feature_map.sizes());
  TORCH_CHECK(explain_positive.dim() == 1 && explain_positive.size(0) == feature_map.size(0),
              "grad_cam: explain_positive must hold one flag per image (", feature_map.size(0), "), got ",
              explain_positive.sizes());
  // Callers run inference under InferenceMode, where nothing is recorded for autograd.
  c10::InferenceMode inference_off(false);
  torch::AutoGradMode gradients_on(true);
  const torch::Tensor activations = feature_map.detach().to(torch::kFloat).clone().requires_grad_(true);
  const torch::Tensor logits = logits_of_features(activations);
  TORCH_CHECK(logits.dim() == 1 && logits.size(0) == feature_map.size(0), "grad_cam: expected one logit per image, got ",
              logits.sizes());
  const torch::Tensor sign = explain_positive.to(logits.device(), torch::kFloat).mul(2.0).sub(1.0);
  // Each image's logit depends only on its own features, so one backward pass serves the whole batch.
  const torch::Tensor gradient = torch::autograd::grad({(logits * sign).sum()}, {activations})[0];
  const torch::Tensor channel_weights = gradient.mean({2, 3}, /*keepdim=*/true);
  const torch::Tensor cam = torch::relu((channel_weights * activations).sum(1)).detach();
  const torch::Tensor peak = std::get<0>(cam.flatten(1).max(1)).clamp_min(1e-12).view({-1, 1, 1});
  return cam / peak;
}

torch::Tensor grad_cam(CargoClassifier& model, const torch::Tensor& feature_map, const torch::Tensor& explain_positive) {
  ClassifierHead head = model->head;
  return grad_cam([&](const torch::Tensor& features) { return head->forward(features); }, feature_map, explain_positive);
}

}  // namespace cargovision
