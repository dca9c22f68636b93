#pragma once
// Private to src/models: what FastConv2d and the oneDNN LSTM share (engine, LibTorch-owned buffers, cached
// reorders, the packed-weights cache).

#include <torch/torch.h>

#include <functional>
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

// `make()`'s result (the `sources` in `layout`), kept while a PackedWeightsScope is open for as long as every
// source keeps its identity and version; outside a scope, or for inference tensors (no version), made afresh.
torch::Tensor packed(const std::vector<torch::Tensor>& sources, const dnnl::memory::desc& layout,
                     const std::function<torch::Tensor()>& make);

}  // namespace cargovision::models::onednn
#endif
