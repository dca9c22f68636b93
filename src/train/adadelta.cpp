#include "cargovision/train/adadelta.h"

namespace cargovision {

Adadelta::Adadelta(std::vector<torch::Tensor> parameters, double lr, double rho, double eps)
    : parameters_(std::move(parameters)), lr_(lr), rho_(rho), eps_(eps) {
  TORCH_CHECK(lr >= 0 && rho >= 0 && rho <= 1 && eps >= 0, "invalid Adadelta settings lr ", lr, " rho ", rho, " eps ", eps);
  for (const auto& p : parameters_) {
    square_avg_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    acc_delta_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
  }
}

void Adadelta::step() {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const auto& grad = parameters_[i].grad();
    if (!grad.defined()) continue;
    square_avg_[i].mul_(rho_).addcmul_(grad, grad, 1 - rho_);
    const auto std_dev = square_avg_[i].add(eps_).sqrt_();
    const auto delta = acc_delta_[i].add(eps_).sqrt_().div_(std_dev).mul_(grad);
    acc_delta_[i].mul_(rho_).addcmul_(delta, delta, 1 - rho_);
    parameters_[i].add_(delta, -lr_);
  }
}

}  // namespace cargovision
