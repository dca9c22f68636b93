#pragma once
// Grad-CAM (Selvaraju et al., ICCV 2017): where in the image the evidence for a decision lies. The
// gradient of the decision's logit with respect to the backbone's last feature map, averaged over
// positions, weighs that map's channels; their rectified sum is the heat map.

#include <torch/torch.h>

#include <functional>

#include "cargovision/classify/model.h"

namespace cargovision {

// Maps a feature map [B, C, h, w] to one logit per image [B].
using LogitsOfFeatures = std::function<torch::Tensor(const torch::Tensor&)>;

// feature_map: [B, C, h, w] (an inference tensor is fine: it is copied). explain_positive: [B] bool,
// true to explain the positive class (the logit), false the negative one (minus the logit).
// Returns [B, h, w] on the feature map's device, each map scaled to a maximum of 1 (all zeros when
// nothing speaks for the class). Gradients flow only through `logits_of_features`.
torch::Tensor grad_cam(const LogitsOfFeatures& logits_of_features, const torch::Tensor& feature_map,
                       const torch::Tensor& explain_positive);

// The classifier's head on its backbone's last block; the model should be in eval mode (no dropout).
torch::Tensor grad_cam(CargoClassifier& model, const torch::Tensor& feature_map, const torch::Tensor& explain_positive);

}  // namespace cargovision
