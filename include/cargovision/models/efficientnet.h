#pragma once
// EfficientNet-B0 with torchvision's names (features.N.M.block..., classifier.1).

#include <torch/torch.h>

#include "cargovision/models/layers.h"

namespace cargovision::models {

struct EfficientNetOptions {
  int64_t num_classes = 0;          // 0: forward() returns the last feature map (1280 channels)
  double dropout = 0.2;
  double stochastic_depth = 0.2;    // largest drop probability, reached by the last block
};

class SqueezeExcitationImpl : public torch::nn::Module {
 public:
  SqueezeExcitationImpl(int64_t channels, int64_t squeezed);
  torch::Tensor forward(torch::Tensor x);

  FastConv2d fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(SqueezeExcitation);

class MBConvImpl : public torch::nn::Module {
 public:
  MBConvImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t expand_ratio, double drop_probability);
  torch::Tensor forward(torch::Tensor x);
  bool uses_residual() const { return use_residual_; }  // stride 1 and as many channels out as in

  torch::nn::Sequential block{nullptr};
  StochasticDepth stochastic_depth{nullptr};

 private:
  bool use_residual_;
};
TORCH_MODULE(MBConv);

class EfficientNetImpl : public torch::nn::Module {
 public:
  explicit EfficientNetImpl(const EfficientNetOptions& options = {});
  torch::Tensor forward(torch::Tensor x);
  int64_t feature_channels() const { return 1280; }

  torch::nn::Sequential features{nullptr};
  torch::nn::Sequential classifier{nullptr};
};
TORCH_MODULE(EfficientNet);

}  // namespace cargovision::models
