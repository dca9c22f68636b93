#pragma once
// Switches and scopes of the oneDNN kernels behind FastConv2d and the recognizer's LSTMs.

#include <cstddef>
#include <string>

namespace cargovision::models {

// Process-wide switch, on by default. Off, every layer runs LibTorch's own kernels: the arithmetic of
// LibTorch (and PyTorch) exactly, for parity checks.
void set_fast_kernels_enabled(bool enabled);
bool fast_kernels_enabled();

// Whether this build has oneDNN's headers and oneDNN has a direct convolution kernel for this CPU (x86-64
// has them from SSE4.1 up): then inference runs its direct convolutions with packed weights and its fused LSTM.
// Either way, without oneDNN's Winograd below, wide 3x3 convolutions run as this project's own Winograd
// (models/winograd.h) where that pays.
bool fast_kernels_available();

// Whether this CPU also has oneDNN's Winograd convolutions (AVX-512 only), which the fast kernels then use for
// 3x3 convolutions in training and inference instead of the own Winograd.
bool winograd_kernels_available();

// The apps' `--kernels` option: "fast" (the default) or "libtorch". Sets the switch above, logs which kernels
// will run (fast ones asked for on a CPU or build without them are reported, not an error) and throws Error
// naming the valid values for anything else.
void use_kernels(const std::string& name);
void check_kernels_name(const std::string& name);  // the same check alone, for option validation
inline constexpr const char* kKernelsHelp =
    "fast: Winograd 3x3 convolutions (oneDNN's with AVX-512, the project's own elsewhere), oneDNN's packed "
    "convolutions and fused LSTMs on the CPU (results equal to float rounding); "
    "libtorch: LibTorch's own kernels, the arithmetic of PyTorch exactly";

// For runs whose weights do not change (demo, test, validation rounds, benchmarks): while one of these is
// alive, FastConv2d and the recognizer's LSTMs keep each weight in oneDNN's layout (a Winograd transform, the
// blocked layout of the direct kernels, the LSTM's packed gates; keyed by tensor identity and version, so an
// in-place change is seen) instead of reordering it on every call, and small batches (<= 4 images) use oneDNN's
// Winograd inference kernels, whose weight layout costs up to 4x the convolution weights' memory (1x
// otherwise). The kept copies go when the last scope ends. Without oneDNN this does nothing.
class PackedWeightsScope {
 public:
  PackedWeightsScope();
  ~PackedWeightsScope();
  PackedWeightsScope(const PackedWeightsScope&) = delete;
  PackedWeightsScope& operator=(const PackedWeightsScope&) = delete;
};

bool packed_weights_scope_open();

// How many packed copies are kept right now (for tests).
std::size_t packed_weight_count();

}  // namespace cargovision::models
