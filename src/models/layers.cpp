#include "cargovision/models/layers.h"

namespace cargovision::models {

FastConv2d make_conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding, int64_t groups,
                     bool bias) {
  return FastConv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).groups(groups).bias(bias));
}

SequentialBlock conv_norm_activation(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups,
                                     Activation activation) {
  SequentialBlock block;
  block->push_back(make_conv(in, out, kernel, stride, (kernel - 1) / 2, groups, false));
  block->push_back(BatchNorm2d(out));
  switch (activation) {
    case Activation::kReLU:
      block->push_back(torch::nn::ReLU(torch::nn::ReLUOptions(true)));
      break;
    case Activation::kReLU6:
      block->push_back(torch::nn::ReLU6(torch::nn::ReLU6Options(true)));
      break;
    case Activation::kSiLU:
      block->push_back(torch::nn::SiLU());
      break;
    case Activation::kNone:
      break;
  }
  return block;
}

torch::Tensor StochasticDepthImpl::forward(torch::Tensor input) {
  if (!is_training() || probability_ == 0.0) return input;
  const double survival = 1.0 - probability_;
  std::vector<int64_t> shape(input.dim(), 1);
  shape[0] = input.size(0);
  auto noise = torch::empty(shape, input.options()).bernoulli_(survival);
  if (survival > 0.0) noise.div_(survival);
  return input * noise;
}

void init_conv_and_norm(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  // include_self=false: this runs inside constructors, before the module is owned by a shared_ptr.
  for (auto& child : module.modules(/*include_self=*/false)) {
    if (auto* conv = child->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      if (conv->bias.defined()) torch::nn::init::zeros_(conv->bias);
    } else if (auto* norm = child->as<BatchNorm2d>()) {
      torch::nn::init::ones_(norm->weight);
      torch::nn::init::zeros_(norm->bias);
    }
  }
}

}  // namespace cargovision::models
