#pragma once
// Adadelta (Zeiler 2012) as torch.optim.Adadelta computes it, the original recognizer's default
// optimizer; LibTorch's C++ API does not ship one.

#include <torch/torch.h>

#include <vector>

namespace cargovision {

class Adadelta {
 public:
  Adadelta(std::vector<torch::Tensor> parameters, double lr = 1.0, double rho = 0.9, double eps = 1e-6);
  // square_avg = rho*square_avg + (1-rho)*g^2; delta = sqrt(acc_delta+eps)/sqrt(square_avg+eps)*g;
  // acc_delta = rho*acc_delta + (1-rho)*delta^2; p -= lr*delta. Parameters without a gradient are skipped.
  void step();

 private:
  std::vector<torch::Tensor> parameters_, square_avg_, acc_delta_;
  double lr_, rho_, eps_;
};

}  // namespace cargovision
