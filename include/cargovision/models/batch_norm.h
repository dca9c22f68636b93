#pragma once
// BatchNorm2d that can normalise with the statistics of a batch spread over several processes
// (PyTorch's SyncBatchNorm). Without a reducer it computes what torch::nn::BatchNorm2d computes, with the
// same parameters and buffers under the same names, so state dicts match torchvision's and the
// original's. (Deriving from torch::nn::BatchNorm2dImpl is not possible: LibTorch does not export its
// base class's virtual functions.)

#include <torch/torch.h>

#include <iosfwd>
#include <memory>

namespace cargovision::models {

// Sums a tensor over every process of a training run, differentiably: the gradient of the sum is
// summed over the processes in the same way.
class BatchStatisticsReducer {
 public:
  virtual ~BatchStatisticsReducer() = default;
  virtual torch::Tensor sum_over_processes(const torch::Tensor& local) = 0;
};

class BatchNorm2dImpl : public torch::nn::Cloneable<BatchNorm2dImpl> {
 public:
  explicit BatchNorm2dImpl(int64_t num_features) : BatchNorm2dImpl(torch::nn::BatchNormOptions(num_features)) {}
  explicit BatchNorm2dImpl(const torch::nn::BatchNormOptions& options);

  torch::Tensor forward(const torch::Tensor& input);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;

  // In training mode, normalise with the mean and variance of the whole distributed batch (the
  // running statistics follow them too); nullptr returns to the local batch.
  void synchronize_statistics(std::shared_ptr<BatchStatisticsReducer> reducer) { reducer_ = std::move(reducer); }
  bool synchronized() const { return reducer_ != nullptr; }

  torch::nn::BatchNormOptions options;
  torch::Tensor weight, bias;
  torch::Tensor running_mean, running_var, num_batches_tracked;

 private:
  torch::Tensor synchronized_forward(const torch::Tensor& input, double momentum);

  std::shared_ptr<BatchStatisticsReducer> reducer_;
};
TORCH_MODULE(BatchNorm2d);

}  // namespace cargovision::models
