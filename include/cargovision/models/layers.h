#pragma once
// Small building blocks shared by the torchvision-compatible backbones.

#include <torch/torch.h>

#include "cargovision/models/batch_norm.h"
#include "cargovision/models/fast_conv2d.h"

namespace cargovision::models {

FastConv2d make_conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0,
                     int64_t groups = 1, bool bias = false);

enum class Activation { kNone, kReLU, kReLU6, kSiLU };

// A Sequential with a concrete Tensor -> Tensor forward, so it can be nested inside another Sequential
// (nn::Sequential's templated forward cannot be stored in AnyModule).
class SequentialBlockImpl : public torch::nn::SequentialImpl {
 public:
  using torch::nn::SequentialImpl::SequentialImpl;
  torch::Tensor forward(torch::Tensor x) { return torch::nn::SequentialImpl::forward(x); }
};
TORCH_MODULE(SequentialBlock);

// torchvision's Conv2dNormActivation: a Sequential of conv ("0"), BatchNorm ("1") and activation ("2"),
// padding (kernel - 1) / 2.
SequentialBlock conv_norm_activation(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups,
                                           Activation activation);

// torchvision.ops.StochasticDepth in "row" mode: drops whole residual branches per sample in training.
class StochasticDepthImpl : public torch::nn::Module {
 public:
  explicit StochasticDepthImpl(double probability) : probability_(probability) {}
  torch::Tensor forward(torch::Tensor input);
  double probability() const { return probability_; }

 private:
  double probability_;
};
TORCH_MODULE(StochasticDepth);

// Kaiming-normal (fan_out, ReLU) convolutions and unit BatchNorm, as torchvision initialises backbones.
void init_conv_and_norm(torch::nn::Module& module);

}  // namespace cargovision::models
