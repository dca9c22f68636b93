#pragma once
// Adadelta (Zeiler 2012) as torch.optim.Adadelta computes it, the original recognizer's default
// optimizer; LibTorch's C++ API does not ship one. A torch::optim::Optimizer, so its state saves and
// loads with torch::save / torch::load like Adam's, and schedules set its lr through param_groups().

#include <torch/torch.h>

#include <vector>

namespace cargovision {

struct AdadeltaOptions : public torch::optim::OptimizerCloneableOptions<AdadeltaOptions> {
  AdadeltaOptions(double lr = 1.0) : lr_(lr) {}  // NOLINT: implicit as LibTorch's option structs
  TORCH_ARG(double, lr) = 1.0;
  TORCH_ARG(double, rho) = 0.9;
  TORCH_ARG(double, eps) = 1e-6;
  TORCH_ARG(double, weight_decay) = 0.0;

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  double get_lr() const override { return lr(); }
  void set_lr(const double value) override { lr(value); }
};

struct AdadeltaParamState : public torch::optim::OptimizerCloneableParamState<AdadeltaParamState> {
  TORCH_ARG(torch::Tensor, square_avg);
  TORCH_ARG(torch::Tensor, acc_delta);
  TORCH_ARG(int64_t, step) = 0;

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
};

class Adadelta : public torch::optim::Optimizer {
 public:
  Adadelta(std::vector<torch::Tensor> parameters, AdadeltaOptions defaults);
  Adadelta(std::vector<torch::Tensor> parameters, double lr = 1.0, double rho = 0.9, double eps = 1e-6);
  // Parameter groups with their own options (a group without options takes `defaults`).
  Adadelta(const std::vector<torch::optim::OptimizerParamGroup>& groups, AdadeltaOptions defaults);

  // square_avg = rho*square_avg + (1-rho)*g^2; delta = sqrt(acc_delta+eps)/sqrt(square_avg+eps)*g;
  // acc_delta = rho*acc_delta + (1-rho)*delta^2; p -= lr*delta. Parameters without a gradient are skipped.
  torch::Tensor step(LossClosure closure = nullptr) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
};

}  // namespace cargovision
