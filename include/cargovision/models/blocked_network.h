#pragma once
// Inference of a convolutional network that stays in oneDNN's blocked activation layout from its first
// convolution to its last.
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

#include <vector>

#include "cargovision/models/batch_norm.h"
#include "cargovision/models/fast_conv2d.h"

namespace cargovision::models {

// A chain of convolutions (each with its batch norm folded in), max pools and residual layers, described in
// the order a module's forward() runs them, then run on oneDNN as a whole:
//   BlockedNetwork().conv_batch_norm_relu(conv1, bn1).max_pool(3, 2, 1).residual_layer(layer1).forward(x)
// forward() runs only at inference with the fast kernels on: inside a PackedWeightsScope, no gradients, every
// convolution and batch norm in eval mode, float32 on the CPU, and oneDNN able to build every step on this CPU.
// Anywhere else it returns an undefined tensor and the caller runs its layers as usual; results equal those
// layers' to float rounding.
class BlockedNetwork {
 public:
  // relu(bn(conv(x))).
  BlockedNetwork& conv_batch_norm_relu(const FastConv2d& conv, const BatchNorm2d& bn);
  // max_pool2d(x, kernel, stride, padding), padding never picked.
  BlockedNetwork& max_pool(torch::ExpandingArray<2> kernel, torch::ExpandingArray<2> stride,
                           torch::ExpandingArray<2> padding);
  // A Sequential of BasicBlock or Bottleneck modules (models/resnet.h); anything else in it makes forward()
  // decline.
  BlockedNetwork& residual_layer(const torch::nn::Sequential& layer);
  // Decline on CPUs without oneDNN's Winograd kernels (AVX2 and older), where a network of 3x3 convolutions
  // runs faster layer by layer: the own Winograd at large batches (the recognizer's ResNet at batch 64, oneDNN
  // capped at AVX2: 50 ms per image against 62 for direct convolutions), and at batch 1 the blocked direct
  // kernels measured no faster (recognizer 0.79x the original's time in scripts/bench.sh, 0.61x layer by layer).
  BlockedNetwork& only_with_onednn_winograd();

  torch::Tensor forward(const torch::Tensor& input) const;

  // What forward() asks of the run and the input before anything of the network (inference inside a
  // PackedWeightsScope, fast kernels on, float32 on the CPU): modules check it before describing their layers,
  // which their training forward passes would otherwise do for nothing on every batch.
  static bool may_run(const torch::Tensor& input);

  struct Step {
    enum Kind { kConvolution, kMaxPool } kind = kConvolution;
    FastConv2d conv{nullptr};
    BatchNorm2d bn{nullptr};
    int src = 0, dst = 0;     // activation buffers; the first step reads the caller's tensor
    bool relu = true;
    bool add_to_dst = false;  // dst holds the shortcut: the residual addition runs as a sum post-op
    int64_t pool[6] = {};     // kernel, stride, padding (height, width each)
  };

 private:
  std::vector<Step> steps_;
  int current_ = -1;  // the buffer the last step wrote
  bool supported_ = true;
  bool only_with_onednn_winograd_ = false;
};

}  // namespace cargovision::models
