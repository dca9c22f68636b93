#pragma once
// Private to src/models: what FastConv2d and the oneDNN LSTM share (engine, LibTorch-owned buffers, cached
// reorders, the packed-weights cache).

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cargovision_build_config.h"

#if CARGOVISION_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>

namespace cargovision::models::onednn {

dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();  // one per thread

dnnl::memory::desc plain(const dnnl::memory::dims& dims);  // dense row-major (LibTorch's contiguous) layout
dnnl::memory::desc any_layout(const dnnl::memory::dims& dims);

// oneDNN's memory lives in LibTorch buffers, so it comes from LibTorch's allocator and autograd can keep it.
torch::Tensor buffer_for(const dnnl::memory::desc& desc);
dnnl::memory view(const dnnl::memory::desc& desc, const torch::Tensor& storage);

// A layout change; kept with its plan because creating one costs about as much as running it on one image.
struct Reorder {
  dnnl::memory::desc from, to;
  dnnl::reorder primitive;

  Reorder() = default;
  Reorder(const dnnl::memory::desc& source, const dnnl::memory::desc& target);
  torch::Tensor operator()(const torch::Tensor& source) const;  // into a new buffer
  void run(void* source, void* target) const;
};

// How many windows of `kernel` fit along `size` at `stride` with `padding` on both sides (LibTorch floors), and
// the right padding oneDNN then wants: the one that makes that count exact.
inline int64_t window_count(int64_t size, int64_t kernel, int64_t stride, int64_t padding) {
  return (size + 2 * padding - kernel) / stride + 1;
}
inline int64_t right_padding(int64_t size, int64_t kernel, int64_t stride, int64_t padding) {
  return (window_count(size, kernel, stride, padding) - 1) * stride + kernel - size - padding;
}

// Hash of a plan key's integer fields.
template <typename Fields>
std::size_t hash_fields(const Fields& fields) {
  std::size_t h = 0;
  for (int64_t v : fields) h = h * 1000003u ^ std::hash<int64_t>()(v);
  return h;
}

// oneDNN primitives built once per shape, each for the life of the process (autograd nodes refer to a plan by
// address until their backward has run). A shape oneDNN has no kernel for is remembered as nullptr, not retried.
template <typename Key, typename Plan, typename KeyHash>
class PlanCache {
 public:
  template <typename Build>
  const Plan* find(const Key& key, Build&& build) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = plans_.find(key);
    if (found != plans_.end()) return found->second.get();
    std::unique_ptr<Plan> plan;
    try {
      plan = build(key);
    } catch (const dnnl::error&) {
      plan = nullptr;
    }
    return plans_.emplace(key, std::move(plan)).first->second.get();
  }

 private:
  std::mutex mutex_;
  std::unordered_map<Key, std::unique_ptr<Plan>, KeyHash> plans_;
};

// `make()`'s result (the `sources` in `layout`), kept while a PackedWeightsScope is open for as long as every
// source keeps its identity and version; outside a scope, or for inference tensors (no version), made afresh.
torch::Tensor packed(const std::vector<torch::Tensor>& sources, const dnnl::memory::desc& layout,
                     const std::function<torch::Tensor()>& make);

}  // namespace cargovision::models::onednn
#endif
