#pragma once
// A convolution followed by a batch norm, folded into one convolution for inference.

#include <torch/torch.h>

#include <cstddef>

#include "cargovision/models/batch_norm.h"
#include "cargovision/models/fast_conv2d.h"

namespace cargovision::models {

// bn(conv(input)). While a PackedWeightsScope is open (the apps' inference) with the fast kernels on and the
// batch norm in eval mode, as one convolution whose weights carry the batch norm's scale and whose bias carries
// its shift: one pass over the activations fewer per layer, and the folded convolution takes the same fast
// paths (packed weights, Winograd). The folded copy is made once per layer and kept, keyed by the tensors'
// identity and version (an in-place change is seen), until the last scope ends. Anywhere else (training,
// `--kernels libtorch`, CUDA, no scope) exactly bn(conv(input)).
torch::Tensor conv_batch_norm(FastConv2d& conv, BatchNorm2d& bn, const torch::Tensor& input);

// The folded convolution conv_batch_norm(conv, bn, input) would run (made or found as it makes or finds it), for
// callers that run its weights themselves (models/blocked_network.h); a null holder where it would not fold.
FastConv2d folded_conv_batch_norm(FastConv2d& conv, BatchNorm2d& bn, const torch::Tensor& input);

// How many folded convolutions are kept right now (for tests); PackedWeightsScope drops them at its end.
std::size_t folded_convolution_count();
void drop_folded_convolutions();

}  // namespace cargovision::models
