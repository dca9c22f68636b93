#pragma once
// An optimizer's state (Adam's moments and step counts, Adadelta's accumulators) saved beside a
// checkpoint so that a resumed run continues with it instead of starting the optimizer afresh.

#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "cargovision/core/atomic_file.h"
#include "cargovision/core/error.h"

namespace cargovision {

// Written atomically (core/atomic_file.h), so a crash leaves the previous state whole.
inline void save_optimizer_state(const torch::optim::Optimizer& optimizer, const std::filesystem::path& path) {
  write_file_atomically(path, [&](const std::filesystem::path& temporary) { torch::save(optimizer, temporary.string()); });
}

// Throws Error naming the file when it does not hold this optimizer's state (another optimizer, another
// parameter list).
inline void load_optimizer_state(torch::optim::Optimizer& optimizer, const std::filesystem::path& path) {
  try {
    torch::load(optimizer, path.string());
  } catch (const c10::Error& e) {
    throw Error(path.string() + ": cannot restore the optimizer state (" + e.what_without_backtrace() + ")");
  }
}

}  // namespace cargovision
