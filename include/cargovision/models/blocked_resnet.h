#pragma once
// ResNet inference that stays in oneDNN's blocked activation layout from the stem to the last feature map.
//
// Layer by layer (FastConv2d), every oneDNN convolution reorders its input from LibTorch's layout into the
// blocked one and its output back, and the ReLUs and residual additions are further passes over memory. At
// batch 32 those reorders made ResNet152 slower per image than at batch 1 (2 cores, AVX-512: 161 against 112
// ms; LibTorch's 1x1 convolutions ran at half the speed of the same kernel on blocked data). Here the
// activations are reordered once into the blocked layout and once out of it, and each ReLU and residual
// addition runs inside its convolution (oneDNN post-ops: the sum accumulates into the shortcut's buffer).
// ResNet152, same machine, ms per image at batch 1 / 32: 112 / 161 -> 90 / 84 natively, 143-170 / 185 ->
// 128-134 / 130 with oneDNN capped at AVX2 (where the direct kernels on blocked data beat the layer-by-layer
// path's own Winograd even at batch 32).

#include <torch/torch.h>

namespace cargovision::models {

class ResNetImpl;

// layer4's output for `input` (what ResNetImpl::forward pools), computed as above with the batch norms folded
// into the convolutions. Only at inference with the fast kernels on: inside a PackedWeightsScope, no gradients,
// the network in eval mode, float32 on the CPU, and oneDNN able to build every step on this CPU. An undefined
// tensor wherever this path does not apply; results equal the layer-by-layer path's to float rounding.
torch::Tensor blocked_resnet_features(ResNetImpl& resnet, const torch::Tensor& input);

}  // namespace cargovision::models
