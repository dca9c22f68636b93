#include "onednn_support.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "cargovision/core/error.h"
#include "cargovision/models/conv_batch_norm.h"
#include "cargovision/models/fast_kernels.h"

namespace cargovision::models {
namespace {

std::atomic<bool> fast_switch{true};
std::atomic<int> open_packed_scopes{0};

#if CARGOVISION_HAVE_ONEDNN
struct PackedCopy {
  std::vector<c10::weak_intrusive_ptr<c10::TensorImpl>> owners;  // weak references pin the addresses: no reuse
  std::vector<int64_t> versions;
  dnnl::memory::desc layout;
  torch::Tensor data;

  bool alive() const {
    return std::none_of(owners.begin(), owners.end(), [](const auto& owner) { return owner.expired(); });
  }
  bool made_from(const std::vector<torch::Tensor>& sources) const {
    if (sources.size() != owners.size()) return false;
    for (std::size_t i = 0; i < sources.size(); ++i) {
      if (owners[i]._unsafe_get_target() != sources[i].unsafeGetTensorImpl()) return false;
    }
    return true;
  }
};

std::mutex packed_mutex;
std::unordered_multimap<const c10::TensorImpl*, PackedCopy> packed_copies;  // by the first source
#endif

}  // namespace

#if CARGOVISION_HAVE_ONEDNN
namespace onednn {

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpu_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

dnnl::memory::desc plain(const dnnl::memory::dims& dims) {
  static const dnnl::memory::format_tag tags[] = {dnnl::memory::format_tag::undef, dnnl::memory::format_tag::a,
                                                  dnnl::memory::format_tag::ab, dnnl::memory::format_tag::abc,
                                                  dnnl::memory::format_tag::abcd, dnnl::memory::format_tag::abcde};
  TORCH_CHECK(!dims.empty() && dims.size() <= 5, "onednn::plain: unsupported rank ", dims.size());
  return {dims, dnnl::memory::data_type::f32, tags[dims.size()]};
}

dnnl::memory::desc any_layout(const dnnl::memory::dims& dims) {
  return {dims, dnnl::memory::data_type::f32, dnnl::memory::format_tag::any};
}

torch::Tensor buffer_for(const dnnl::memory::desc& desc) {
  return torch::empty({static_cast<int64_t>(desc.get_size())}, torch::kUInt8);
}

dnnl::memory view(const dnnl::memory::desc& desc, const torch::Tensor& storage) {
  return {desc, cpu_engine(), storage.data_ptr()};
}

Reorder::Reorder(const dnnl::memory::desc& source, const dnnl::memory::desc& target)
    : from(source), to(target), primitive(dnnl::reorder::primitive_desc(cpu_engine(), from, cpu_engine(), to)) {}

torch::Tensor Reorder::operator()(const torch::Tensor& source) const {
  auto target = buffer_for(to);
  run(source.data_ptr(), target.data_ptr());
  return target;
}

void Reorder::run(void* source, void* target) const {
  dnnl::memory in(from, cpu_engine(), source), out(to, cpu_engine(), target);
  primitive.execute(cpu_stream(), in, out);
}

torch::Tensor packed(const std::vector<torch::Tensor>& sources, const dnnl::memory::desc& layout,
                     const std::function<torch::Tensor()>& make) {
  const bool keep = packed_weights_scope_open() &&
                    std::none_of(sources.begin(), sources.end(), [](const auto& t) { return t.is_inference(); });
  if (!keep) return make();
  std::vector<int64_t> versions;
  for (const auto& source : sources) versions.push_back(source._version());
  const auto* first = sources.front().unsafeGetTensorImpl();
  std::lock_guard<std::mutex> lock(packed_mutex);
  auto range = packed_copies.equal_range(first);
  for (auto it = range.first; it != range.second; ++it) {
    const auto& copy = it->second;
    if (copy.layout == layout && copy.versions == versions && copy.made_from(sources) && copy.alive()) return copy.data;
  }
  for (auto it = packed_copies.begin(); it != packed_copies.end();) {  // stale: dead sources, replaced versions
    const bool replaced = it->first == first && it->second.layout == layout && it->second.made_from(sources);
    it = (replaced || !it->second.alive()) ? packed_copies.erase(it) : std::next(it);
  }
  PackedCopy copy{{}, versions, layout, make()};
  for (const auto& source : sources) copy.owners.emplace_back(source.getIntrusivePtr());
  auto data = copy.data;
  packed_copies.emplace(first, std::move(copy));
  return data;
}

}  // namespace onednn
#endif

void set_fast_kernels_enabled(bool enabled) { fast_switch.store(enabled); }
bool fast_kernels_enabled() { return fast_switch.load(); }

void check_kernels_name(const std::string& name) {
  require(name == "fast" || name == "libtorch", "--kernels {}: unknown kernels (use fast or libtorch)", name);
}

void use_kernels(const std::string& name) {
  check_kernels_name(name);
  set_fast_kernels_enabled(name == "fast");
  if (name == "libtorch") {
    spdlog::info("kernels: LibTorch's own (the arithmetic of PyTorch)");
  } else if (winograd_kernels_available()) {
    spdlog::info("kernels: fast (oneDNN Winograd and packed direct convolutions, fused LSTMs; LibTorch's elsewhere)");
  } else if (fast_kernels_available()) {
    spdlog::info("kernels: fast (this CPU has no oneDNN Winograd kernel: the own Winograd for wide 3x3 "
                 "convolutions, oneDNN packed direct convolutions and fused LSTMs at inference; LibTorch's elsewhere)");
  } else {
    spdlog::info("kernels: fast (the own Winograd for wide 3x3 convolutions; LibTorch's elsewhere: this {} has no "
                 "oneDNN kernels)", CARGOVISION_HAVE_ONEDNN ? "CPU" : "build");
  }
}

PackedWeightsScope::PackedWeightsScope() { open_packed_scopes.fetch_add(1); }

PackedWeightsScope::~PackedWeightsScope() {
  if (open_packed_scopes.fetch_sub(1) != 1) return;
  drop_folded_convolutions();
#if CARGOVISION_HAVE_ONEDNN
  std::lock_guard<std::mutex> lock(packed_mutex);
  packed_copies.clear();
#endif
}

bool packed_weights_scope_open() { return open_packed_scopes.load() > 0; }

std::size_t packed_weight_count() {
#if CARGOVISION_HAVE_ONEDNN
  std::lock_guard<std::mutex> lock(packed_mutex);
  return packed_copies.size();
#else
  return 0;
#endif
}

}  // namespace cargovision::models
