#pragma once
// Winograd F(4x4,3x3) convolutions on LibTorch's own BLAS, for CPUs where oneDNN has no Winograd kernel
// (oneDNN 2.x has them for AVX-512 only).

#include <torch/torch.h>

namespace cargovision::models {

// conv2d(input, weight, bias, stride 1, padding) for 3x3 kernels, computed as Winograd F(4x4,3x3): every 4x4
// output tile from a 6x6 input tile, 36 matrix products over the channels instead of 9 per output pixel, so 4x
// fewer multiplications than the direct convolution. Forward and backward (input, weight and bias gradients,
// the weight gradient also in the Winograd domain) are differentiable through autograd. Float32 CPU tensors,
// contiguous or not; padding 0, 1 or 2 on both axes. Results equal LibTorch's to float rounding (the
// transforms' constants up to 8 make the error grow with the channels: ~1e-5 of the output scale at 512).
torch::Tensor winograd_conv2d(const torch::Tensor& input, const torch::Tensor& weight,
                              const c10::optional<torch::Tensor>& bias, int64_t padding_h, int64_t padding_w);

// The same convolution at inference, with the weight transformed beforehand (winograd_transformed_weight):
// callers that run fixed weights many times (a PackedWeightsScope) transform each weight once, which at small
// batches costs as much as the convolution itself. No gradients.
torch::Tensor winograd_transformed_weight(const torch::Tensor& weight);  // [K, C, 3, 3] -> [36, K, C]
torch::Tensor winograd_conv2d_inference(const torch::Tensor& input, const torch::Tensor& transformed_weight,
                                        const c10::optional<torch::Tensor>& bias, int64_t padding_h,
                                        int64_t padding_w);

// Whether winograd_conv2d pays against LibTorch's direct convolution for this problem on a CPU without oneDNN's
// Winograd kernels: >= 128 input and output channels (with fewer the transforms cost more than the products
// save) and enough 4x4 output tiles in the batch for the matrix products to run at full speed (at batch 1 on
// small feature maps, transforming and reading the 4x larger weights costs more than the multiplications saved).
bool winograd_conv2d_pays(int64_t batch, int64_t in_channels, int64_t out_channels, int64_t out_height,
                          int64_t out_width);

}  // namespace cargovision::models
