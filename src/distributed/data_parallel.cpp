#include "cargovision/distributed/data_parallel.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "backend.h"
#include "cargovision/core/error.h"
#include "cargovision/models/batch_norm.h"

namespace cargovision::distributed {
namespace {

// all_reduce as an autograd function: the gradient of a sum over ranks is the sum over ranks of the
// gradients, so the backward pass all-reduces too.
class SumOverRanks : public torch::autograd::Function<SumOverRanks> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* context, const torch::Tensor& local,
                               ProcessGroup* group) {
    context->saved_data["group"] = reinterpret_cast<int64_t>(group);
    auto total = local.clone();
    group->all_reduce_sum(total);
    return total;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* context,
                                               torch::autograd::tensor_list gradients) {
    auto* group = reinterpret_cast<ProcessGroup*>(context->saved_data["group"].toInt());
    auto total = gradients[0].contiguous().clone();
    group->all_reduce_sum(total);
    return {total, torch::Tensor()};
  }
};

class GroupStatisticsReducer : public models::BatchStatisticsReducer {
 public:
  explicit GroupStatisticsReducer(ProcessGroup& group) : group_(group) {}
  torch::Tensor sum_over_processes(const torch::Tensor& local) override {
    return SumOverRanks::apply(local.contiguous(), &group_);
  }

 private:
  ProcessGroup& group_;
};

}  // namespace

namespace {

void broadcast_state(ProcessGroup& group, torch::nn::Module& module, bool parameters) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors;
  if (parameters) {
    for (const auto& parameter : module.parameters()) tensors.push_back(parameter.detach());
  }
  for (const auto& buffer : module.buffers()) tensors.push_back(buffer.detach());
  group.broadcast(std::move(tensors));
}

}  // namespace

void broadcast_module_state(ProcessGroup& group, torch::nn::Module& module) {
  broadcast_state(group, module, /*parameters=*/true);
}

void broadcast_buffers(ProcessGroup& group, torch::nn::Module& module) {
  broadcast_state(group, module, /*parameters=*/false);
}

void synchronize_batch_norm(ProcessGroup& group, torch::nn::Module& module) {
  auto reducer = std::make_shared<GroupStatisticsReducer>(group);
  for (const auto& child : module.modules()) {
    if (auto* norm = child->as<models::BatchNorm2dImpl>()) norm->synchronize_statistics(reducer);
  }
}

struct GradientAverager::State {
  struct Slot {  // where a parameter's gradient lives in its bucket
    std::size_t bucket = 0;
    int64_t offset = 0;
    bool ready = false;
  };
  struct Bucket {
    torch::Tensor flat;
    std::vector<std::size_t> parameters;
    std::size_t pending = 0;  // gradients not yet copied in during this backward pass
    c10::intrusive_ptr<c10d::Work> work;
  };
  std::vector<torch::Tensor> parameters;
  std::vector<std::string> names;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  std::vector<unsigned> hooks;
  std::size_t next_bucket = 0;  // buckets are all-reduced in order, the same on every rank
  bool armed = false;
};

GradientAverager::GradientAverager(ProcessGroup& group, torch::nn::Module& module, int64_t first_bucket_bytes,
                                   int64_t bucket_bytes)
    : group_(group), state_(std::make_unique<State>()) {
  for (const auto& item : module.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    state_->names.push_back(item.key());
    state_->parameters.push_back(item.value());
  }
  require(!state_->parameters.empty(), "data-parallel training: the model has no trainable parameter");
  state_->slots.resize(state_->parameters.size());
  std::vector<std::vector<std::size_t>> members;
  int64_t filled = 0;
  for (std::size_t k = state_->parameters.size(); k-- > 0;) {
    const auto& parameter = state_->parameters[k];
    const int64_t bytes = parameter.numel() * static_cast<int64_t>(parameter.element_size());
    const int64_t limit = members.size() <= 1 ? first_bucket_bytes : bucket_bytes;
    const bool same_kind = !members.empty() && state_->parameters[members.back().front()].options().type_equal(
                                                   parameter.options());
    if (members.empty() || !same_kind || (filled > 0 && filled + bytes > limit)) {
      members.emplace_back();
      filled = 0;
    }
    members.back().push_back(k);
    filled += bytes;
  }
  for (auto& indices : members) {
    State::Bucket bucket;
    int64_t size = 0;
    for (const std::size_t k : indices) {
      state_->slots[k] = {state_->buckets.size(), size, false};
      size += state_->parameters[k].numel();
    }
    bucket.flat = torch::zeros({size}, state_->parameters[indices.front()].options().requires_grad(false));
    bucket.parameters = std::move(indices);
    state_->buckets.push_back(std::move(bucket));
  }
  for (std::size_t k = 0; k < state_->parameters.size(); ++k) {
    state_->hooks.push_back(state_->parameters[k].register_hook([this, k](torch::Tensor gradient) {
      if (state_->armed) on_gradient(k, gradient);
    }));
  }
}

GradientAverager::~GradientAverager() {
  for (std::size_t k = 0; k < state_->parameters.size(); ++k) state_->parameters[k].remove_hook(state_->hooks[k]);
}

std::size_t GradientAverager::bucket_count() const { return state_->buckets.size(); }

void GradientAverager::on_gradient(std::size_t parameter, const torch::Tensor& gradient) {
  auto& slot = state_->slots[parameter];
  auto& bucket = state_->buckets[slot.bucket];
  TORCH_CHECK(!slot.ready, "data-parallel training: ", state_->names[parameter],
              " received two gradients in one backward pass");
  bucket.flat.narrow(0, slot.offset, gradient.numel()).copy_(gradient.reshape({-1}));
  slot.ready = true;
  --bucket.pending;
  launch_ready_buckets();
}

void GradientAverager::launch_ready_buckets() {
  while (state_->next_bucket < state_->buckets.size() && state_->buckets[state_->next_bucket].pending == 0) {
    auto& bucket = state_->buckets[state_->next_bucket++];
    try {
      std::vector<torch::Tensor> tensors{bucket.flat};
      bucket.work = group_.backend().group->allreduce(tensors);
    } catch (const std::exception& e) {
      group_.fail("gradient all-reduce", e);
    }
  }
}

void GradientAverager::backward(const torch::Tensor& loss) {
  for (auto& bucket : state_->buckets) {
    bucket.pending = bucket.parameters.size();
    bucket.work.reset();
  }
  for (auto& slot : state_->slots) slot.ready = false;
  state_->next_bucket = 0;
  state_->armed = true;
  try {
    loss.backward();
  } catch (...) {
    state_->armed = false;
    throw;
  }
  state_->armed = false;
  // Parameters the pass did not reach contribute zeros, so that every rank reduces every bucket.
  for (std::size_t k = 0; k < state_->parameters.size(); ++k) {
    auto& slot = state_->slots[k];
    if (slot.ready) continue;
    auto& bucket = state_->buckets[slot.bucket];
    bucket.flat.narrow(0, slot.offset, state_->parameters[k].numel()).zero_();
    slot.ready = true;
    --bucket.pending;
  }
  launch_ready_buckets();
  const double ranks = static_cast<double>(group_.size());
  torch::NoGradGuard no_grad;
  for (auto& bucket : state_->buckets) {
    try {
      bucket.work->wait();
    } catch (const std::exception& e) {
      group_.fail("gradient all-reduce", e);
    }
    bucket.flat.div_(ranks);
    for (const std::size_t k : bucket.parameters) {
      auto& parameter = state_->parameters[k];
      const auto averaged = bucket.flat.narrow(0, state_->slots[k].offset, parameter.numel()).view(parameter.sizes());
      if (parameter.grad().defined()) {
        parameter.mutable_grad().copy_(averaged);
      } else {
        parameter.mutable_grad() = averaged.clone();
      }
    }
  }
}

}  // namespace cargovision::distributed
