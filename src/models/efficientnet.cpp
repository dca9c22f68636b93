#include "cargovision/models/efficientnet.h"

#include <array>
#include <cmath>

namespace cargovision::models {

SqueezeExcitationImpl::SqueezeExcitationImpl(int64_t channels, int64_t squeezed) {
  fc1 = register_module("fc1", make_conv(channels, squeezed, 1, 1, 0, 1, true));
  fc2 = register_module("fc2", make_conv(squeezed, channels, 1, 1, 0, 1, true));
}

torch::Tensor SqueezeExcitationImpl::forward(torch::Tensor x) {
  auto scale = torch::adaptive_avg_pool2d(x, {1, 1});
  scale = torch::sigmoid(fc2(torch::silu(fc1(scale))));
  return x * scale;
}

MBConvImpl::MBConvImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t expand_ratio,
                       double drop_probability)
    : use_residual_(stride == 1 && in == out) {
  TORCH_CHECK(stride == 1 || stride == 2, "MBConv stride must be 1 or 2, got ", stride);
  const int64_t expanded = in * expand_ratio;
  torch::nn::Sequential layers;
  if (expanded != in) layers->push_back(conv_norm_activation(in, expanded, 1, 1, 1, Activation::kSiLU));
  layers->push_back(conv_norm_activation(expanded, expanded, kernel, stride, expanded, Activation::kSiLU));
  layers->push_back(SqueezeExcitation(expanded, std::max<int64_t>(1, in / 4)));
  layers->push_back(conv_norm_activation(expanded, out, 1, 1, 1, Activation::kNone));
  block = register_module("block", layers);
  stochastic_depth = register_module("stochastic_depth", StochasticDepth(drop_probability));
}

torch::Tensor MBConvImpl::forward(torch::Tensor x) {
  auto out = block->forward(x);
  if (use_residual_) out = stochastic_depth(out) + x;
  return out;
}

EfficientNetImpl::EfficientNetImpl(const EfficientNetOptions& options) {
  TORCH_CHECK(options.num_classes >= 0, "num_classes must be >= 0");
  // expand ratio, kernel, stride, in, out, layers (B0: width and depth multipliers 1.0)
  static const std::array<std::array<int64_t, 6>, 7> kStages = {{{1, 3, 1, 32, 16, 1},
                                                                  {6, 3, 2, 16, 24, 2},
                                                                  {6, 5, 2, 24, 40, 2},
                                                                  {6, 3, 2, 40, 80, 3},
                                                                  {6, 5, 1, 80, 112, 3},
                                                                  {6, 5, 2, 112, 192, 4},
                                                                  {6, 3, 1, 192, 320, 1}}};
  int64_t total_blocks = 0;
  for (const auto& stage : kStages) total_blocks += stage[5];

  torch::nn::Sequential layers;
  layers->push_back(conv_norm_activation(3, 32, 3, 2, 1, Activation::kSiLU));
  int64_t block_id = 0;
  for (const auto& [expand, kernel, stride, in, out, repeats] : kStages) {
    SequentialBlock stage;
    for (int64_t i = 0; i < repeats; ++i) {
      const double drop = options.stochastic_depth * static_cast<double>(block_id) / static_cast<double>(total_blocks);
      stage->push_back(MBConv(i == 0 ? in : out, out, kernel, i == 0 ? stride : 1, expand, drop));
      ++block_id;
    }
    layers->push_back(stage);
  }
  layers->push_back(conv_norm_activation(320, 1280, 1, 1, 1, Activation::kSiLU));
  features = register_module("features", layers);
  if (options.num_classes > 0) {
    classifier = register_module(
        "classifier", torch::nn::Sequential(torch::nn::Dropout(options.dropout), torch::nn::Linear(1280, options.num_classes)));
  }
  init_conv_and_norm(*this);
  torch::NoGradGuard no_grad;
  if (classifier) {
    for (auto& module : classifier->modules()) {
      if (auto* fc = module->as<torch::nn::Linear>()) {
        const double range = 1.0 / std::sqrt(static_cast<double>(fc->options.out_features()));
        torch::nn::init::uniform_(fc->weight, -range, range);
        torch::nn::init::zeros_(fc->bias);
      }
    }
  }
}

torch::Tensor EfficientNetImpl::forward(torch::Tensor x) {
  x = features->forward(x);
  if (!classifier) return x;
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  return classifier->forward(x);
}

}  // namespace cargovision::models
