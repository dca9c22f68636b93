#pragma once
// A drop-in torch::nn::Conv2d whose 3x3 stride-1 convolutions run as Winograd convolutions on the CPU.

#include <torch/torch.h>

#include "cargovision/models/fast_kernels.h"

namespace cargovision::models {

// Same options, parameters, state-dict keys and results (to float rounding) as torch::nn::Conv2d, with CPU
// float32 convolutions on oneDNN, the library LibTorch itself links (so no new runtime dependency):
// - 3x3, stride-1, undilated, ungrouped convolutions with >= 16 input and output channels run on oneDNN's
//   Winograd kernels (F(4x4,3x3) / F(2x2,3x3): 2.25-4x fewer multiplications than the direct convolution
//   LibTorch picks), forward and backward;
// - on CPUs without those (AVX2 and older), the same convolutions run as this project's own Winograd
//   F(4x4,3x3) on LibTorch's BLAS (models/winograd.h) where the batch has enough tiles for it to pay, and, at
//   inference inside a PackedWeightsScope with 128 channels or more at small batches (batch 1 on the
//   recognizer's and ResNet's maps), as its F(2x2,3x3) on its own AVX2 matrix kernel (models/winograd_f2.h);
// - inside a PackedWeightsScope, inference keeps the weights of these and of the other spatial convolutions over
//   >= 16 input channels (2x2, strided 3x3) in oneDNN's layout, where LibTorch reorders them on every call (at
//   batch 1 that reorder costs more than the convolution), and so are the weights of 1x1 convolutions at batches
//   of <= 4 (from batch 32 on, LibTorch's own call spreads its reorder over the batch and measures the same).
// Anything else (CUDA, double, grouped or dilated convolutions, shapes where neither Winograd pays, or
// set_fast_kernels_enabled(false)) is torch::nn::Conv2d unchanged.
class FastConv2dImpl : public torch::nn::Conv2dImpl {
 public:
  using torch::nn::Conv2dImpl::Conv2dImpl;
  torch::Tensor forward(const torch::Tensor& input);
};
TORCH_MODULE(FastConv2d);

// Small batches are latency-bound: oneDNN's Winograd inference kernels with pre-transformed weights win there,
// and their weight layout (up to 4x the weights, made for the batch size) is what the packed scope pays for.
inline constexpr int64_t kPackedInferenceMaxBatch = 4;

// Undilated, ungrouped, zero-padded: the convolutions the oneDNN paths take.
bool plain_convolution(const torch::nn::detail::ConvNdOptions<2>& options);

// Where the Winograd kernels apply and pay: 3x3, stride 1, padding <= 1, >= 16 input and output channels (with
// fewer, oneDNN would pad them to 16 and do more work than the direct kernel).
bool winograd_shape(const torch::nn::detail::ConvNdOptions<2>& options);

// On CPUs without oneDNN's Winograd kernels (AVX2 and older): `input` through `conv` as winograd_conv2d
// (models/winograd.h) where that pays, forward and backward, or at inference in a PackedWeightsScope as
// winograd_f2_conv2d_inference (models/winograd_f2.h) where that pays more; an undefined tensor elsewhere.
torch::Tensor own_winograd_conv2d(const torch::nn::Conv2dImpl& conv, const torch::Tensor& input);

// Runs `input` through `conv`'s parameters on oneDNN; an undefined tensor when neither oneDNN path applies (so
// that callers and tests can tell which path ran).
torch::Tensor onednn_conv2d(const torch::nn::Conv2dImpl& conv, const torch::Tensor& input);

}  // namespace cargovision::models
