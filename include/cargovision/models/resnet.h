#pragma once
// ResNet v1.5 (stride on the 3x3 convolution) with torchvision's module names, so torchvision state
// dicts load by name: conv1 bn1 layer1..4.{i}.conv1..3 bn1..3 downsample.0/.1 fc.

#include <torch/torch.h>

#include "cargovision/models/batch_norm.h"
#include "cargovision/models/blocked_network.h"
#include "cargovision/models/fast_conv2d.h"

namespace cargovision::models {

struct ResNetOptions {
  int depth = 152;          // 18, 34, 50, 101 or 152
  int64_t num_classes = 0;  // 0: no pooling/fc, forward() returns the last feature map
};

class BasicBlockImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 1;
  BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride);
  torch::Tensor forward(torch::Tensor x);

  FastConv2d conv1{nullptr}, conv2{nullptr};
  BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

class BottleneckImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t in_planes, int64_t planes, int64_t stride);
  torch::Tensor forward(torch::Tensor x);

  FastConv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

class ResNetImpl : public torch::nn::Module {
 public:
  explicit ResNetImpl(const ResNetOptions& options = {});
  torch::Tensor forward(torch::Tensor x);
  int64_t feature_channels() const { return feature_channels_; }
  // conv1 to layer4 as one BlockedNetwork (models/blocked_network.h): how forward() runs them at inference.
  BlockedNetwork blocked_features() const;

  FastConv2d conv1{nullptr};
  BatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  torch::nn::Linear fc{nullptr};

 private:
  template <typename Block>
  torch::nn::Sequential make_layer(int64_t planes, int64_t blocks, int64_t stride);

  int64_t in_planes_ = 64;
  int64_t feature_channels_ = 0;
};
TORCH_MODULE(ResNet);

}  // namespace cargovision::models
