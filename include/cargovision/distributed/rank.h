#pragma once
// Where this process stands in a data-parallel run: torchrun's environment (RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT), and which part of every global batch it takes.

#include <cstddef>
#include <optional>
#include <string>

namespace cargovision::distributed {

struct RankInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
};

// The launcher's environment, or nothing when WORLD_SIZE is unset (a single process). Inconsistent
// values are an Error naming the variable.
std::optional<RankInfo> rank_info_from_environment();

// The device a rank trains on: plain "cuda" in a distributed run becomes "cuda:LOCAL_RANK" (one GPU per
// local rank, as torchrun's convention); anything else is kept.
std::string device_for_rank(const std::string& device);

// Options of the process group, not of the training (they change nothing in the result).
struct DistributedOptions {
  std::string backend = "auto";  // auto (nccl on CUDA when LibTorch has it, else gloo) | gloo | nccl
  int timeout_s = 300;           // a collective waiting longer than this fails, naming this rank
  // Batch norms normalise with the whole global batch's statistics (PyTorch's SyncBatchNorm), so N ranks
  // train as one process; off, each rank uses its own share's (DistributedDataParallel's default:
  // fewer collectives, but batch statistics from B/N samples).
  bool sync_batch_norm = true;
};

void validate(const DistributedOptions& options);

// This rank's part of every global batch: rows rank, rank + size, rank + 2 size, ... Ranks together
// take each row exactly once, so a batch of B split over N ranks is the batch of one process, and a
// batch mixed from several datasets (31 + 31 + 2) keeps its mix on every rank.
struct Shard {
  int rank = 0;
  int size = 1;
  bool owns(std::size_t row) const { return row % static_cast<std::size_t>(size) == static_cast<std::size_t>(rank); }
  // Rows of a batch of `total` this rank takes.
  std::size_t count(std::size_t total) const;
  bool whole() const { return size == 1; }
};

}  // namespace cargovision::distributed
