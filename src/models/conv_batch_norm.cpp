#include "cargovision/models/conv_batch_norm.h"

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cargovision/models/fast_kernels.h"

namespace cargovision::models {
namespace {

struct FoldedConvolution {
  std::weak_ptr<FastConv2dImpl> conv;
  std::weak_ptr<BatchNorm2dImpl> bn;
  std::vector<int64_t> versions;
  FastConv2d folded{nullptr};
};

std::mutex folded_mutex;
std::unordered_map<const FastConv2dImpl*, FoldedConvolution> folded_convolutions;

std::vector<int64_t> versions_of(const FastConv2dImpl& conv, const BatchNorm2dImpl& bn) {
  std::vector<int64_t> versions;
  for (const auto* tensor : {&conv.weight, &conv.bias, &bn.weight, &bn.bias, &bn.running_mean, &bn.running_var}) {
    versions.push_back(tensor->defined() ? static_cast<int64_t>(tensor->_version()) : -1);
  }
  return versions;
}

// y = gamma (conv(x) + b - mean) / sqrt(var + eps) + beta = conv'(x) with W' = W s, b' = (b - mean) s + beta.
FastConv2d fold(const FastConv2dImpl& conv, const BatchNorm2dImpl& bn) {
  // Made outside inference mode so that the copy has versions and the packed-weights cache can keep its layout.
  c10::InferenceMode normal_tensors(false);
  torch::NoGradGuard no_grad;
  const auto& o = conv.options;
  FastConv2d folded(torch::nn::Conv2dOptions(o.in_channels(), o.out_channels(), o.kernel_size())
                        .stride(o.stride())
                        .padding(o.padding())
                        .dilation(o.dilation())
                        .groups(o.groups())
                        .padding_mode(o.padding_mode())
                        .bias(true));
  const auto scale = bn.weight / torch::sqrt(bn.running_var + bn.options.eps());
  folded->weight.copy_(conv.weight * scale.view({-1, 1, 1, 1}));
  const auto conv_bias = conv.bias.defined() ? conv.bias : torch::zeros_like(bn.running_mean);
  folded->bias.copy_((conv_bias - bn.running_mean) * scale + bn.bias);
  folded->eval();
  return folded;
}

bool foldable(const FastConv2d& conv, const BatchNorm2d& bn, const torch::Tensor& input) {
  return fast_kernels_enabled() && packed_weights_scope_open() && !bn->is_training() && !conv->is_training() &&
         !torch::GradMode::is_enabled() && input.device().is_cpu() && input.scalar_type() == torch::kFloat &&
         bn->options.affine() && bn->options.track_running_stats() && bn->running_var.defined() &&
         conv->weight.device().is_cpu() && conv->weight.scalar_type() == torch::kFloat &&
         !conv->weight.is_inference() && !bn->weight.is_inference();
}

FastConv2d folded_for(FastConv2d& conv, BatchNorm2d& bn) {
  const auto versions = versions_of(*conv, *bn);
  std::lock_guard<std::mutex> lock(folded_mutex);
  auto found = folded_convolutions.find(conv.get());
  if (found != folded_convolutions.end() && found->second.bn.lock() == bn.ptr() && found->second.versions == versions) {
    return found->second.folded;
  }
  // Only when folding anew (not on every call): dead modules' copies go.
  for (auto it = folded_convolutions.begin(); it != folded_convolutions.end();) {
    it = it->second.conv.expired() || it->second.bn.expired() ? folded_convolutions.erase(it) : std::next(it);
  }
  FoldedConvolution entry{conv.ptr(), bn.ptr(), versions, fold(*conv, *bn)};
  auto folded = entry.folded;
  folded_convolutions[conv.get()] = std::move(entry);
  return folded;
}

}  // namespace

torch::Tensor conv_batch_norm(FastConv2d& conv, BatchNorm2d& bn, const torch::Tensor& input) {
  if (!foldable(conv, bn, input)) return bn->forward(conv->forward(input));
  return folded_for(conv, bn)->forward(input);
}

FastConv2d folded_conv_batch_norm(FastConv2d& conv, BatchNorm2d& bn, const torch::Tensor& input) {
  return foldable(conv, bn, input) ? folded_for(conv, bn) : FastConv2d(nullptr);
}

std::size_t folded_convolution_count() {
  std::lock_guard<std::mutex> lock(folded_mutex);
  return folded_convolutions.size();
}

void drop_folded_convolutions() {
  std::lock_guard<std::mutex> lock(folded_mutex);
  folded_convolutions.clear();
}

}  // namespace cargovision::models
