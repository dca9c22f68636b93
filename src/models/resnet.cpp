#include "cargovision/models/resnet.h"

#include <array>
#include <map>

#include "cargovision/models/blocked_network.h"
#include "cargovision/models/conv_batch_norm.h"
#include "cargovision/models/layers.h"

namespace cargovision::models {
namespace {

torch::nn::Sequential make_downsample(int64_t in, int64_t out, int64_t stride) {
  return torch::nn::Sequential(make_conv(in, out, 1, stride, 0), BatchNorm2d(out));
}

torch::Tensor run_downsample(const torch::nn::Sequential& downsample, const torch::Tensor& x) {
  FastConv2d conv(downsample->ptr<FastConv2dImpl>(0));
  BatchNorm2d bn(downsample->ptr<BatchNorm2dImpl>(1));
  return conv_batch_norm(conv, bn, x);
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride) {
  conv1 = register_module("conv1", make_conv(in_planes, planes, 3, stride, 1));
  bn1 = register_module("bn1", BatchNorm2d(planes));
  conv2 = register_module("conv2", make_conv(planes, planes, 3, 1, 1));
  bn2 = register_module("bn2", BatchNorm2d(planes));
  if (stride != 1 || in_planes != planes * kExpansion) {
    downsample = register_module("downsample", make_downsample(in_planes, planes * kExpansion, stride));
  }
}

torch::Tensor BasicBlockImpl::forward(torch::Tensor x) {
  auto out = conv_batch_norm(conv1, bn1, x).relu_();
  out = conv_batch_norm(conv2, bn2, out);
  out += downsample ? run_downsample(downsample, x) : x;
  return out.relu_();
}

BottleneckImpl::BottleneckImpl(int64_t in_planes, int64_t planes, int64_t stride) {
  conv1 = register_module("conv1", make_conv(in_planes, planes, 1));
  bn1 = register_module("bn1", BatchNorm2d(planes));
  conv2 = register_module("conv2", make_conv(planes, planes, 3, stride, 1));
  bn2 = register_module("bn2", BatchNorm2d(planes));
  conv3 = register_module("conv3", make_conv(planes, planes * kExpansion, 1));
  bn3 = register_module("bn3", BatchNorm2d(planes * kExpansion));
  if (stride != 1 || in_planes != planes * kExpansion) {
    downsample = register_module("downsample", make_downsample(in_planes, planes * kExpansion, stride));
  }
}

torch::Tensor BottleneckImpl::forward(torch::Tensor x) {
  auto out = conv_batch_norm(conv1, bn1, x).relu_();
  out = conv_batch_norm(conv2, bn2, out).relu_();
  out = conv_batch_norm(conv3, bn3, out);
  out += downsample ? run_downsample(downsample, x) : x;
  return out.relu_();
}

BlockedNetwork ResNetImpl::blocked_features() const {
  BlockedNetwork network;
  network.conv_batch_norm_relu(conv1, bn1).max_pool(3, 2, 1);
  for (const auto* layer : {&layer1, &layer2, &layer3, &layer4}) network.residual_layer(*layer);
  return network;
}

template <typename Block>
torch::nn::Sequential ResNetImpl::make_layer(int64_t planes, int64_t blocks, int64_t stride) {
  torch::nn::Sequential layer;
  layer->push_back(Block(in_planes_, planes, stride));
  in_planes_ = planes * Block::Impl::kExpansion;
  for (int64_t i = 1; i < blocks; ++i) layer->push_back(Block(in_planes_, planes, 1));
  return layer;
}

ResNetImpl::ResNetImpl(const ResNetOptions& options) {
  static const std::map<int, std::array<int64_t, 4>> kLayers = {
      {18, {2, 2, 2, 2}}, {34, {3, 4, 6, 3}}, {50, {3, 4, 6, 3}}, {101, {3, 4, 23, 3}}, {152, {3, 8, 36, 3}}};
  const auto found = kLayers.find(options.depth);
  TORCH_CHECK(found != kLayers.end(), "ResNet depth must be 18, 34, 50, 101 or 152, got ", options.depth);
  TORCH_CHECK(options.num_classes >= 0, "num_classes must be >= 0");
  const auto& blocks = found->second;

  conv1 = register_module("conv1", make_conv(3, 64, 7, 2, 3));
  bn1 = register_module("bn1", BatchNorm2d(64));
  const bool bottleneck = options.depth >= 50;
  auto build = [&](int64_t planes, int64_t count, int64_t stride) {
    return bottleneck ? make_layer<Bottleneck>(planes, count, stride) : make_layer<BasicBlock>(planes, count, stride);
  };
  layer1 = register_module("layer1", build(64, blocks[0], 1));
  layer2 = register_module("layer2", build(128, blocks[1], 2));
  layer3 = register_module("layer3", build(256, blocks[2], 2));
  layer4 = register_module("layer4", build(512, blocks[3], 2));
  feature_channels_ = in_planes_;
  if (options.num_classes > 0) fc = register_module("fc", torch::nn::Linear(feature_channels_, options.num_classes));
  init_conv_and_norm(*this);
}

torch::Tensor ResNetImpl::forward(torch::Tensor x) {
  const auto features = BlockedNetwork::may_run(x) ? blocked_features().forward(x) : torch::Tensor();
  if (features.defined()) {
    x = features;
  } else {
    x = conv_batch_norm(conv1, bn1, x).relu_();
    x = torch::max_pool2d(x, 3, 2, 1);
    x = layer1->forward(x);
    x = layer2->forward(x);
    x = layer3->forward(x);
    x = layer4->forward(x);
  }
  if (!fc) return x;
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  return fc(x);
}

}  // namespace cargovision::models
