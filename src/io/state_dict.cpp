#include "cargovision/io/state_dict.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <iterator>
#include <set>

#include "cargovision/core/atomic_file.h"
#include "cargovision/core/error.h"
#include "cargovision/io/pth_format.h"

namespace cargovision {
namespace {

void collect_state(const torch::nn::Module& module, const std::string& prefix, StateDict& out) {
  for (const auto& item : module.named_parameters(/*recurse=*/false)) out.insert(prefix + item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/false)) out.insert(prefix + item.key(), item.value());
  for (const auto& child : module.named_children()) collect_state(*child.value(), prefix + child.key() + ".", out);
}

torch::Dtype torch_dtype(PthDtype dtype) {
  switch (dtype) {
    case PthDtype::Float32: return torch::kFloat32;
    case PthDtype::Float16: return torch::kFloat16;
    case PthDtype::BFloat16: return torch::kBFloat16;
    case PthDtype::Float64: return torch::kFloat64;
    case PthDtype::Int64: return torch::kInt64;
    case PthDtype::Int32: return torch::kInt32;
    case PthDtype::Int16: return torch::kInt16;
    case PthDtype::Int8: return torch::kInt8;
    case PthDtype::UInt8: return torch::kUInt8;
    case PthDtype::Bool: return torch::kBool;
  }
  return torch::kFloat32;
}

// Files written on a big-endian machine store every element with its bytes reversed.
void swap_bytes(torch::Tensor& flat, int width) {
  if (width == 1) return;
  auto* data = static_cast<unsigned char*>(flat.data_ptr());
  const auto count = static_cast<std::size_t>(flat.numel());
  for (std::size_t i = 0; i < count; ++i) std::reverse(data + i * static_cast<std::size_t>(width), data + (i + 1) * static_cast<std::size_t>(width));
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string shape_string(const torch::Tensor& tensor) {
  std::string text = "[";
  for (int64_t d = 0; d < tensor.dim(); ++d) text += (d ? ", " : "") + std::to_string(tensor.size(d));
  return text + "]";
}

StateDict module_state_dict(const torch::nn::Module& module) {
  StateDict state;
  collect_state(module, "", state);
  return state;
}

void save_state_dict(const StateDict& state, const std::string& path) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& item : state) dict.insert(item.key(), item.value().detach().to(torch::kCPU).contiguous());
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  write_file_atomically(path, std::string_view(bytes.data(), bytes.size()));
}

StateDict load_state_dict_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(path + ": cannot open checkpoint");
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const PthFile parsed = parse_pth(bytes, path);
  std::map<std::string, torch::Tensor> storages;
  for (const auto& [key, storage] : parsed.storages) {
    auto flat = torch::empty({storage.numel}, torch::TensorOptions(torch_dtype(storage.dtype)));
    if (storage.numel > 0) {
      std::memcpy(flat.data_ptr(), storage.bytes.data(), storage.bytes.size());
      if (parsed.big_endian) swap_bytes(flat, element_size(storage.dtype));
    }
    storages.emplace(key, flat);
  }
  StateDict state;
  for (const auto& [name, record] : parsed.tensors) {
    state.insert(name, storages.at(record.storage).as_strided(record.sizes, record.strides, record.offset));
  }
  return state;
}

std::string LoadReport::summary() const {
  return fmt::format("{} loaded, {} missing, {} unexpected, {} shape-mismatched", loaded.size(), missing.size(),
                     unexpected.size(), mismatched.size());
}

LoadReport load_into_module(torch::nn::Module& module, const StateDict& state, const std::string& origin,
                            const LoadPolicy& policy) {
  LoadReport report;
  StateDict target = module_state_dict(module);
  std::set<std::string> seen;
  torch::NoGradGuard no_grad;
  const std::string& prefix = policy.key_prefix;
  for (const auto& item : target) {
    const std::string& key = item.key();
    const torch::Tensor* source = state.find(key);
    if (source == nullptr) {
      if (policy.allow_missing_batch_counters && ends_with(key, "num_batches_tracked")) continue;
      report.missing.push_back(prefix + key);
      continue;
    }
    seen.insert(key);
    torch::Tensor destination = item.value();
    if (source->sizes() != destination.sizes()) {
      report.mismatched.push_back(fmt::format("{}{}: checkpoint {} vs model {}", prefix, key, shape_string(*source),
                                              shape_string(destination)));
      continue;
    }
    destination.copy_(*source);
    report.loaded.push_back(prefix + key);
  }
  for (const auto& item : state) {
    if (seen.count(item.key()) == 0) report.unexpected.push_back(prefix + item.key());
  }
  if (policy.strict && (!report.mismatched.empty() || !report.missing.empty() || !report.unexpected.empty())) {
    // One message with every kind of problem, each by its first key and its count.
    std::vector<std::string> problems;
    if (!report.mismatched.empty()) {
      problems.push_back(fmt::format("shape mismatch at {} ({} mismatched keys in all)", report.mismatched.front(),
                                     report.mismatched.size()));
    }
    if (!report.missing.empty()) {
      problems.push_back(fmt::format("missing key '{}' ({} missing in all)", report.missing.front(), report.missing.size()));
    }
    if (!report.unexpected.empty()) {
      problems.push_back(fmt::format("unexpected key '{}' ({} unexpected in all)", report.unexpected.front(),
                                     report.unexpected.size()));
    }
    throw Error(origin + ": checkpoint does not match the model: " + fmt::format("{}", fmt::join(problems, "; ")));
  }
  return report;
}

}  // namespace cargovision
