#include "cargovision/models/batch_norm.h"

#include <ostream>

namespace cargovision::models {

BatchNorm2dImpl::BatchNorm2dImpl(const torch::nn::BatchNormOptions& options) : options(options) { reset(); }

void BatchNorm2dImpl::reset() {
  const int64_t features = options.num_features();
  TORCH_CHECK(features > 0, "BatchNorm2d: num_features must be positive, got ", features);
  // Registered in torch::nn::BatchNorm2d's order: the state dict lists them so.
  if (options.affine()) {
    weight = register_parameter("weight", torch::ones({features}));
    bias = register_parameter("bias", torch::zeros({features}));
  } else {
    weight = register_parameter("weight", torch::Tensor(), /*requires_grad=*/false);
    bias = register_parameter("bias", torch::Tensor(), /*requires_grad=*/false);
  }
  if (options.track_running_stats()) {
    running_mean = register_buffer("running_mean", torch::zeros({features}));
    running_var = register_buffer("running_var", torch::ones({features}));
    num_batches_tracked = register_buffer("num_batches_tracked", torch::tensor(0, torch::kLong));
  } else {
    running_mean = register_buffer("running_mean", torch::Tensor());
    running_var = register_buffer("running_var", torch::Tensor());
    num_batches_tracked = register_buffer("num_batches_tracked", torch::Tensor());
  }
}

void BatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << std::boolalpha << "BatchNorm2d(" << options.num_features() << ", eps=" << options.eps() << ", momentum=";
  if (options.momentum().has_value()) {
    stream << *options.momentum();
  } else {
    stream << "None";
  }
  stream << ", affine=" << options.affine() << ", track_running_stats=" << options.track_running_stats()
         << (reducer_ ? ", synchronized" : "") << ")";
}

torch::Tensor BatchNorm2dImpl::forward(const torch::Tensor& input) {
  TORCH_CHECK(input.dim() == 4, "BatchNorm2d: expected a 4-D input, got ", input.dim(), "-D");
  // As torch::nn::BatchNorm2d: an unset momentum is a cumulative average over the batches seen.
  double momentum = options.momentum().value_or(0.0);
  if (is_training() && options.track_running_stats()) {
    num_batches_tracked += 1;
    if (!options.momentum().has_value()) momentum = 1.0 / static_cast<double>(num_batches_tracked.item<int64_t>());
  }
  if (reducer_ && is_training()) return synchronized_forward(input, momentum);
  return torch::batch_norm(input, weight, bias, running_mean, running_var,
                           is_training() || !options.track_running_stats(), momentum, options.eps(),
                           at::globalContext().userEnabledCuDNN());
}

torch::Tensor BatchNorm2dImpl::synchronized_forward(const torch::Tensor& input, double momentum) {
  const int64_t channels = input.size(1);
  TORCH_CHECK(channels == options.num_features(), "BatchNorm2d: expected ", options.num_features(),
              " channels, got ", channels);
  const std::vector<int64_t> reduced_dims{0, 2, 3};
  const std::vector<int64_t> shape{1, channels, 1, 1};
  // Two passes (sum, then squared deviations from the global mean) rather than E[x^2] - E[x]^2, which
  // loses the variance of large activations to cancellation; sums in float64, as LibTorch's CPU kernel
  // accumulates, so any split of the batch matches one process to float32 rounding.
  const auto local_count = torch::full({1}, static_cast<double>(input.numel() / channels),
                                       input.options().dtype(torch::kFloat64));
  const auto sums = reducer_->sum_over_processes(
      torch::cat({input.sum(reduced_dims, /*keepdim=*/false, torch::kFloat64), local_count}));
  const auto count = sums[channels];
  const double global_count = count.item<double>();
  TORCH_CHECK(global_count > 1, "BatchNorm2d: expected more than 1 value per channel in training, got ",
              global_count);
  const auto mean = sums.slice(0, 0, channels) / count;
  const auto centered = input - mean.to(input.scalar_type()).view(shape);
  const auto variance =
      reducer_->sum_over_processes(centered.pow(2).sum(reduced_dims, /*keepdim=*/false, torch::kFloat64)) / count;
  auto output = centered * torch::rsqrt(variance + options.eps()).to(input.scalar_type()).view(shape);
  if (options.affine()) output = output * weight.view(shape) + bias.view(shape);

  if (options.track_running_stats()) {
    torch::NoGradGuard no_grad;
    const auto unbiased = variance * (global_count / (global_count - 1));
    running_mean.mul_(1 - momentum).add_(mean.to(running_mean.scalar_type()), momentum);
    running_var.mul_(1 - momentum).add_(unbiased.to(running_var.scalar_type()), momentum);
  }
  return output;
}

}  // namespace cargovision::models
