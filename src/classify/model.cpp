#include "cargovision/classify/model.h"

#include <cmath>
#include <optional>

namespace cargovision {
namespace {

void glorot_uniform(torch::nn::Linear& layer) {
  torch::NoGradGuard no_grad;
  const double fan_in = static_cast<double>(layer->options.in_features());
  const double fan_out = static_cast<double>(layer->options.out_features());
  const double limit = std::sqrt(6.0 / (fan_in + fan_out));
  torch::nn::init::uniform_(layer->weight, -limit, limit);
  torch::nn::init::zeros_(layer->bias);
}

}  // namespace

ClassifierHeadImpl::ClassifierHeadImpl(const ClassifierHeadOptions& options) {
  TORCH_CHECK(options.in_features > 0, "head in_features must be positive");
  TORCH_CHECK(options.hidden >= 0, "head hidden units must be >= 0");
  TORCH_CHECK(options.dropout >= 0 && options.dropout < 1, "dropout must be in [0, 1)");
  dropout = register_module("dropout", torch::nn::Dropout(options.dropout));
  int64_t width = options.in_features;
  if (options.hidden > 0) {
    hidden = register_module("hidden", torch::nn::Linear(width, options.hidden));
    glorot_uniform(hidden);
    width = options.hidden;
  }
  output = register_module("output", torch::nn::Linear(width, 1));
  glorot_uniform(output);
}

void ClassifierHeadImpl::set_global_rows(std::vector<int64_t> rows, int64_t global_size) {
  TORCH_CHECK(global_size >= static_cast<int64_t>(rows.size()), "set_global_rows: ", rows.size(),
              " rows of a batch of ", global_size);
  global_rows_ = std::move(rows);
  global_size_ = global_size;
}

torch::Tensor ClassifierHeadImpl::distributed_dropout(const torch::Tensor& x) {
  TORCH_CHECK(x.size(0) == static_cast<int64_t>(global_rows_.size()), "ClassifierHead: ", x.size(0),
              " samples for ", global_rows_.size(), " global rows");
  const double p = dropout->options.p();
  // LibTorch's CPU dropout: a Bernoulli(1 - p) mask scaled by 1 / (1 - p), nothing drawn when p is 0.
  if (p == 0.0) return x;
  auto mask = torch::empty({global_size_, x.size(1)}, x.options()).bernoulli_(1 - p).div_(1 - p);
  return x * mask.index_select(0, torch::tensor(global_rows_, torch::kLong).to(x.device()));
}

torch::Tensor ClassifierHeadImpl::forward(torch::Tensor feature_map) {
  auto x = feature_map.mean({2, 3});
  if (global_size_ > 0 && is_training()) {
    x = distributed_dropout(x);
  } else {
    x = dropout(x);
  }
  global_rows_.clear();
  global_size_ = 0;
  // The seed's hidden Dense(16) has no activation; it is kept linear to reproduce it.
  if (hidden) x = hidden(x);
  return output(x).squeeze(1);
}

CargoClassifierImpl::CargoClassifierImpl(const CargoClassifierOptions& options)
    : backbone_(models::make_backbone(options.backbone)) {
  register_module("backbone", backbone_.pointer);
  head = register_module("head", ClassifierHead(ClassifierHeadOptions{backbone_.feature_channels, options.hidden,
                                                                     options.dropout}));
}

torch::Tensor CargoClassifierImpl::features(torch::Tensor images) {
  // A frozen backbone needs no autograd graph; skipping it saves memory and time.
  std::optional<torch::NoGradGuard> no_grad;
  if (frozen_) no_grad.emplace();
  return backbone_.module.forward(images);
}

torch::Tensor CargoClassifierImpl::forward(torch::Tensor images) { return head(features(std::move(images))); }

void CargoClassifierImpl::set_backbone_frozen(bool frozen) {
  frozen_ = frozen;
  for (auto& parameter : backbone_.pointer->parameters()) parameter.set_requires_grad(!frozen);
  train(is_training());
}

void CargoClassifierImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (frozen_) backbone_.pointer->eval();
}

}  // namespace cargovision
