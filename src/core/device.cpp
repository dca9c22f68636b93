#include "cargovision/core/device.h"

#include <torch/torch.h>

#include <cstdlib>
#include <thread>

#include "cargovision/core/error.h"

namespace cargovision {

c10::Device parse_device(const std::string& name) {
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw Error("--device " + name +
                  ": CUDA is not available (this LibTorch build has no CUDA support or no GPU is visible); "
                  "use --device cpu");
    }
    try {
      c10::Device device(name);
      if (device.has_index() && device.index() >= static_cast<int>(torch::cuda::device_count())) {
        throw Error("--device " + name + ": only " + std::to_string(torch::cuda::device_count()) +
                    " CUDA device(s) present");
      }
      return device;
    } catch (const c10::Error&) {
      throw Error("--device " + name + ": malformed device (use cuda or cuda:N)");
    }
  }
  throw Error("--device " + name + ": unknown device (use cpu, cuda or cuda:N)");
}

int configure_threads(int requested) {
  if (requested < 0) throw Error("--threads must be >= 0 (0 = OMP_NUM_THREADS if set, else one per core)");
  int threads = requested;
  if (threads == 0) {
    // As PyTorch: OMP_NUM_THREADS, when set, is the default (scripts/launch.sh shares the cores out
    // among the ranks with it: two ranks each spinning two OpenMP threads on two cores run ~10x slower).
    const char* omp = std::getenv("OMP_NUM_THREADS");
    const int from_environment = omp != nullptr ? std::atoi(omp) : 0;
    threads = from_environment > 0 ? from_environment
                                   : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  torch::set_num_threads(threads);
  return threads;
}

}  // namespace cargovision
