// Compiled apart, with OpenMP and without the shared precompiled header (src/CMakeLists.txt): only then does
// at::parallel_for below spread the work over LibTorch's OpenMP threads.
#include "cargovision/core/intra_op_parallel.h"

#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>

#ifndef _OPENMP
#error "intra_op_parallel.cpp must be compiled with OpenMP, or at::parallel_for runs on one thread"
#endif

namespace cargovision {

void intra_op_parallel_for(int64_t begin, int64_t end, int64_t grain_size,
                           const std::function<void(int64_t, int64_t)>& body) {
  const at::ThreadLocalState caller_state;
  at::parallel_for(begin, end, grain_size, [&](int64_t first, int64_t last) {
    const at::ThreadLocalStateGuard caller_modes(caller_state);
    body(first, last);
  });
}

}  // namespace cargovision
