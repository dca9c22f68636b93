#pragma once
// Writes the inference-mode computation of cargovision's modules as ONNX nodes. Each emitter mirrors the
// module's forward(); the export tests run both on the same input and compare. Initializers are named after
// the state-dict keys ("FeatureExtraction.ConvNet.conv0_1.weight"), so a graph reads like the checkpoint.

#include <torch/torch.h>

#include <string>

#include "cargovision/models/batch_norm.h"
#include "onnx_graph.h"

namespace cargovision::onnx_export {

class ModuleEmitter {
 public:
  explicit ModuleEmitter(GraphBuilder& graph) : graph_(graph) {}
  GraphBuilder& graph() { return graph_; }

  // `module` (named `prefix` in the state dict) applied to the value `x`; throws Error naming the module
  // type when it has no emitter.
  std::string module(const torch::nn::Module& module, const std::string& prefix, const std::string& x);

  std::string conv(const torch::nn::Conv2dImpl& conv, const std::string& prefix, const std::string& x);
  std::string batch_norm(const models::BatchNorm2dImpl& norm, const std::string& prefix, const std::string& x);
  // x [..., in] -> [..., out]: MatMul with the transposed weight, then the bias.
  std::string linear(const torch::nn::LinearImpl& linear, const std::string& prefix, const std::string& x);
  // A one-layer bidirectional batch-first LSTM: x [B, T, in] -> [B, T, 2 * hidden] (forward, then backward).
  std::string bidirectional_lstm(const torch::nn::LSTMImpl& lstm, const std::string& prefix, const std::string& x);
  std::string max_pool(const std::string& x, std::vector<int64_t> kernel, std::vector<int64_t> stride,
                       std::vector<int64_t> padding, bool ceil_mode = false);
  std::string relu(const std::string& x);
  std::string add(const std::string& a, const std::string& b);

 private:
  GraphBuilder& graph_;
};

}  // namespace cargovision::onnx_export
