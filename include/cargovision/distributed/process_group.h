#pragma once
// One rank of a c10d process group (PyTorch's distributed engine: Gloo on the CPU, NCCL on CUDA when
// LibTorch has it). Every collective either completes on all ranks or fails within the timeout with an
// Error naming this rank, so a rank that dies or hangs cannot leave the others waiting for ever.

#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <vector>

#include "cargovision/distributed/rank.h"

// Declared only: the apps that join a group parse no tensor code (LibTorch's headers cost ~20 s to compile).
namespace at {
class Tensor;
}  // namespace at

namespace cargovision::distributed {

struct Backend;  // the c10d objects, kept out of this header

class ProcessGroup {
 public:
  // Rendezvous at master_addr:master_port (rank 0 hosts the store) and connect every rank; fails after
  // the timeout if a rank does not arrive.
  ProcessGroup(const RankInfo& info, const DistributedOptions& options, const c10::Device& device);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return info_.rank; }
  int size() const { return info_.world_size; }
  bool is_main() const { return info_.rank == 0; }
  Shard shard() const { return {info_.rank, info_.world_size}; }
  const std::string& backend_name() const { return backend_name_; }
  const DistributedOptions& options() const { return options_; }

  // Rank 0's values into every rank's tensors, in place.
  void broadcast(std::vector<at::Tensor> tensors);
  // The sum over ranks, in place.
  void all_reduce_sum(at::Tensor tensor);
  std::vector<double> sum(const std::vector<double>& values);
  void barrier();

  // Turns a failed collective into one Error line: which rank, what it was doing, and why.
  [[noreturn]] void fail(const std::string& operation, const std::exception& cause) const;
  Backend& backend() { return *backend_; }

 private:
  RankInfo info_;
  DistributedOptions options_;
  c10::Device device_;
  std::string backend_name_;
  std::unique_ptr<Backend> backend_;
};

// The group torchrun's environment describes, or nullptr for a single process (WORLD_SIZE unset or 1).
std::shared_ptr<ProcessGroup> join_from_environment(const DistributedOptions& options, const c10::Device& device);

// Logging for a rank: rank 0 logs as a single process does; the others log warnings and errors only,
// prefixed with their rank, and to no file (rank 0 alone writes the run's files).
void setup_rank_logging(const ProcessGroup* group, const std::string& level, const std::string& log_file);

}  // namespace cargovision::distributed
