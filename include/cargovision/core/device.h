#pragma once

#include <c10/core/Device.h>

#include <string>

namespace cargovision {

// "cpu", "cuda" or "cuda:N". Throws Error with a clear message when CUDA is asked for but unavailable.
c10::Device parse_device(const std::string& name);

// Sets LibTorch's intra-op threads; 0 means OMP_NUM_THREADS if set, else one per core (LibTorch's
// OpenMP default can be 1 in containers, which halves throughput on a 2-core machine). Returns the count
// in effect.
int configure_threads(int requested);

}  // namespace cargovision
