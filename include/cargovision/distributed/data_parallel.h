#pragma once
// Data-parallel training on a ProcessGroup, as PyTorch's DistributedDataParallel does it: the same
// weights on every rank, gradients averaged in buckets that are all-reduced (c10d) while the backward
// pass is still producing the earlier layers' gradients, batch norms normalising with the statistics of
// the whole global batch. (c10d's own Reducer cannot be used: its header needs the distributed
// autograd headers, which Debian's libtorch-dev does not ship.)
//
// A global batch of B split over N ranks then trains as one process with batch B, when each rank's
// loss is its samples' share of the global batch's loss times N (the averager divides by N).

#include <torch/torch.h>

#include <memory>

#include "cargovision/distributed/process_group.h"

namespace cargovision::distributed {

// Rank 0's parameters and buffers into every rank: after building or loading a model.
void broadcast_module_state(ProcessGroup& group, torch::nn::Module& module);

// Rank 0's buffers (batch-norm running statistics) into every rank: without synchronised batch norms
// each rank's statistics drift apart, and validation and checkpoints use rank 0's, as
// DistributedDataParallel's broadcast_buffers does.
void broadcast_buffers(ProcessGroup& group, torch::nn::Module& module);

// Every models::BatchNorm2d in `module` normalises with statistics summed over the group in training.
void synchronize_batch_norm(ProcessGroup& group, torch::nn::Module& module);

class GradientAverager {
 public:
  // Averages the gradients of `module`'s parameters that require one now (build a new averager when
  // the trainable set changes). Buckets are filled in reverse parameter order, the order in which the
  // backward pass produces gradients: 1 MB first, so communication starts early, then 25 MB.
  GradientAverager(ProcessGroup& group, torch::nn::Module& module, int64_t first_bucket_bytes = 1 << 20,
                   int64_t bucket_bytes = 25 << 20);
  ~GradientAverager();
  GradientAverager(const GradientAverager&) = delete;
  GradientAverager& operator=(const GradientAverager&) = delete;

  // loss.backward(), with every trainable parameter's .grad then the average over the ranks of their
  // gradients (overwriting, not accumulating: zero the gradients before, as each step does). A
  // parameter that got no gradient on this rank counts as a zero gradient.
  void backward(const torch::Tensor& loss);

  std::size_t bucket_count() const;

 private:
  struct State;
  void on_gradient(std::size_t parameter, const torch::Tensor& gradient);
  void launch_ready_buckets();

  ProcessGroup& group_;
  std::unique_ptr<State> state_;
};

}  // namespace cargovision::distributed
