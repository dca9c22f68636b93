#pragma once
// An optimizer's state (Adam's moments and step counts, Adadelta's accumulators) saved beside a
// checkpoint so that a resumed run continues with it instead of starting the optimizer afresh.

#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "cargovision/core/error.h"

namespace cargovision {

// Written to a temporary name and renamed, so a crash leaves the previous state whole.
inline void save_optimizer_state(const torch::optim::Optimizer& optimizer, const std::filesystem::path& path) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  torch::save(optimizer, temporary.string());
  std::filesystem::rename(temporary, path);
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
