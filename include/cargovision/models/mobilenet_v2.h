#pragma once
// MobileNetV2 with torchvision's names (features.N..., classifier.1), width multiplier 1.0.

#include <torch/torch.h>

namespace cargovision::models {

struct MobileNetV2Options {
  int64_t num_classes = 0;  // 0: forward() returns the last feature map (1280 channels)
  double dropout = 0.2;
};

class InvertedResidualImpl : public torch::nn::Module {
 public:
  InvertedResidualImpl(int64_t in, int64_t out, int64_t stride, int64_t expand_ratio);
  torch::Tensor forward(torch::Tensor x);
  bool uses_residual() const { return use_residual_; }  // stride 1 and as many channels out as in

  torch::nn::Sequential conv{nullptr};

 private:
  bool use_residual_;
};
TORCH_MODULE(InvertedResidual);

class MobileNetV2Impl : public torch::nn::Module {
 public:
  explicit MobileNetV2Impl(const MobileNetV2Options& options = {});
  torch::Tensor forward(torch::Tensor x);
  int64_t feature_channels() const { return 1280; }

  torch::nn::Sequential features{nullptr};
  torch::nn::Sequential classifier{nullptr};
};
TORCH_MODULE(MobileNetV2);

}  // namespace cargovision::models
