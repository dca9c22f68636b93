#pragma once

#include <cstdint>
#include <functional>

namespace cargovision {

// Calls body(first, end) over slices of [begin, end) on LibTorch's intra-op threads (torch::get_num_threads()),
// slices of at least `grain_size` indices, and returns when all are done; the first exception a slice throws is
// rethrown here. Every slice runs under the caller's LibTorch thread-local state (grad mode, inference mode), so
// tensor operations inside behave as they would in the caller.
//
// Why not at::parallel_for directly: it is a header template that runs in parallel only where the including file
// is compiled with OpenMP, and the library's files are not (they share one precompiled header); its workers also
// start in default modes, where an inference tensor cannot be written. Inside a parallel region the body runs
// whole on the calling thread.
void intra_op_parallel_for(int64_t begin, int64_t end, int64_t grain_size,
                           const std::function<void(int64_t, int64_t)>& body);

}  // namespace cargovision
