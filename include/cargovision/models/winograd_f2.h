#pragma once
// Winograd F(2x2,3x3) convolutions for inference at small batches, on the project's own AVX2 matrix kernel.

#include <torch/torch.h>

namespace cargovision::models {

// Whether this CPU runs the kernels below (x86-64 with AVX2 and FMA).
bool winograd_f2_available();

// conv2d(input, weight, bias, stride 1, padding) for 3x3 kernels at inference, computed as Winograd F(2x2,3x3):
// every 2x2 output tile from a 4x4 input tile, 16 matrix products over the channels, 2.25x fewer multiplications
// than the direct convolution. Made for the batches where the F(4x4,3x3) of models/winograd.h does not pay (batch
// 1 on small feature maps): its weights, 1.8x the convolution's instead of 4x, are read once per call in the
// layout the matrix kernel walks, so no BLAS packs them again on every call. Results equal LibTorch's to float
// rounding (the transforms' constants are 1 and 1/2). No gradients; float32 CPU tensors; padding 0-2.
//
// The weight, transformed and packed once: [K, C, 3, 3] -> [16, ceil(K / 16), C, 16] (output channels in
// panels of 16, the last one zero-padded).
torch::Tensor winograd_f2_packed_weight(const torch::Tensor& weight);
torch::Tensor winograd_f2_conv2d_inference(const torch::Tensor& input, const torch::Tensor& packed_weight,
                                           int64_t out_channels, const c10::optional<torch::Tensor>& bias,
                                           int64_t padding_h, int64_t padding_w);

// Whether winograd_f2_conv2d_inference with packed weights pays against both oneDNN's direct convolution with
// packed weights and the F(4x4,3x3) for this problem on a CPU without oneDNN's Winograd kernels (measured on the
// recognizer's and ResNet's shapes; see the definition).
bool winograd_f2_pays(int64_t batch, int64_t in_channels, int64_t out_channels, int64_t out_height,
                      int64_t out_width);

}  // namespace cargovision::models
