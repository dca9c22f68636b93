#pragma once
// Inference of torch::nn::LSTM on oneDNN's fused LSTM kernels.

#include <torch/torch.h>

#include "cargovision/models/fast_kernels.h"

namespace cargovision::models {

// The output sequence of `lstm` (one layer, batch_first, with biases, no projection, one or two directions) for
// a [batch, time, features] float CPU input, computed by oneDNN's LSTM (same gates, i f g o, as LibTorch; about
// 1.4x faster at batch 1 and 1.6x at batch 64 on 2 cores). An undefined tensor when this does not apply:
// autograd needed, other options or devices, fast kernels off or unavailable (see fast_kernels.h).
torch::Tensor onednn_lstm_sequence(const torch::nn::LSTMImpl& lstm, const torch::Tensor& input);

}  // namespace cargovision::models
