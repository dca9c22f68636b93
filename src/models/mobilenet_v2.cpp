#include "cargovision/models/mobilenet_v2.h"

#include <array>

#include "cargovision/models/layers.h"

namespace cargovision::models {

InvertedResidualImpl::InvertedResidualImpl(int64_t in, int64_t out, int64_t stride, int64_t expand_ratio)
    : use_residual_(stride == 1 && in == out) {
  TORCH_CHECK(stride == 1 || stride == 2, "InvertedResidual stride must be 1 or 2, got ", stride);
  const int64_t hidden = in * expand_ratio;
  torch::nn::Sequential layers;
  if (expand_ratio != 1) layers->push_back(conv_norm_activation(in, hidden, 1, 1, 1, Activation::kReLU6));
  layers->push_back(conv_norm_activation(hidden, hidden, 3, stride, hidden, Activation::kReLU6));
  layers->push_back(make_conv(hidden, out, 1));
  layers->push_back(BatchNorm2d(out));
  conv = register_module("conv", layers);
}

torch::Tensor InvertedResidualImpl::forward(torch::Tensor x) { return use_residual_ ? x + conv->forward(x) : conv->forward(x); }

MobileNetV2Impl::MobileNetV2Impl(const MobileNetV2Options& options) {
  TORCH_CHECK(options.num_classes >= 0, "num_classes must be >= 0");
  // expand ratio t, output channels c, repeats n, first stride s
  static const std::array<std::array<int64_t, 4>, 7> kSettings = {{
      {1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}}};
  torch::nn::Sequential layers;
  int64_t channels = 32;
  layers->push_back(conv_norm_activation(3, channels, 3, 2, 1, Activation::kReLU6));
  for (const auto& [t, c, n, s] : kSettings) {
    for (int64_t i = 0; i < n; ++i) {
      layers->push_back(InvertedResidual(channels, c, i == 0 ? s : 1, t));
      channels = c;
    }
  }
  layers->push_back(conv_norm_activation(channels, 1280, 1, 1, 1, Activation::kReLU6));
  features = register_module("features", layers);
  if (options.num_classes > 0) {
    classifier = register_module(
        "classifier", torch::nn::Sequential(torch::nn::Dropout(options.dropout), torch::nn::Linear(1280, options.num_classes)));
  }
  init_conv_and_norm(*this);
  torch::NoGradGuard no_grad;
  if (classifier) {
    for (auto& linear : classifier->modules()) {
      if (auto* fc = linear->as<torch::nn::Linear>()) {
        torch::nn::init::normal_(fc->weight, 0.0, 0.01);
        torch::nn::init::zeros_(fc->bias);
      }
    }
  }
}

torch::Tensor MobileNetV2Impl::forward(torch::Tensor x) {
  x = features->forward(x);
  if (!classifier) return x;
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  return classifier->forward(x);
}

}  // namespace cargovision::models
