#include "cargovision/io/state_dict.h"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <set>

#include "cargovision/core/atomic_file.h"
#include "cargovision/core/error.h"

namespace cargovision {
namespace {

void collect_state(const torch::nn::Module& module, const std::string& prefix, StateDict& out) {
  for (const auto& item : module.named_parameters(/*recurse=*/false)) out.insert(prefix + item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/false)) out.insert(prefix + item.key(), item.value());
  for (const auto& child : module.named_children()) collect_state(*child.value(), prefix + child.key() + ".", out);
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
  std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (bytes.empty()) throw Error(path + ": empty checkpoint file");
  c10::IValue root;
  try {
    root = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    throw Error(path + ": not a readable PyTorch zip checkpoint (" + e.what_without_backtrace() + ")");
  }
  if (!root.isGenericDict()) throw Error(path + ": checkpoint root is " + root.tagKind() + ", expected a dict");
  StateDict state;
  for (const auto& entry : root.toGenericDict()) {
    if (!entry.key().isString()) throw Error(path + ": checkpoint has a non-string key");
    if (!entry.value().isTensor()) {
      throw Error(path + ": entry '" + entry.key().toStringRef() + "' is " + entry.value().tagKind() +
                  ", expected a tensor (a state dict maps names to tensors)");
    }
    state.insert(entry.key().toStringRef(), entry.value().toTensor());
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
  if (policy.strict) {
    if (!report.mismatched.empty()) {
      throw Error(origin + ": checkpoint does not match the model: shape mismatch at " + report.mismatched.front() +
                  fmt::format(" ({} mismatched keys in all)", report.mismatched.size()));
    }
    if (!report.missing.empty()) {
      throw Error(origin + ": checkpoint does not match the model: missing key '" + report.missing.front() + "'" +
                  fmt::format(" ({} missing in all)", report.missing.size()));
    }
    if (!report.unexpected.empty()) {
      throw Error(origin + ": checkpoint does not match the model: unexpected key '" + report.unexpected.front() +
                  "'" + fmt::format(" ({} unexpected in all)", report.unexpected.size()));
    }
  }
  return report;
}

}  // namespace cargovision
