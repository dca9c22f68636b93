#pragma once
// Name -> tensor maps in PyTorch's state_dict order: saved as zip files Python's torch.load reads (a
// plain dict, as torch.save(dict(model.state_dict())) writes); read from any torch.save file of a state
// dict (zip or legacy format, OrderedDict or dict, or a checkpoint dict wrapping one) without running
// its pickle (io/pth_format.h); copied into modules with PyTorch's strict/non-strict semantics and
// messages that name the first offending key.

#include <torch/torch.h>

#include <string>
#include <vector>

namespace cargovision {

using StateDict = torch::OrderedDict<std::string, torch::Tensor>;

// Parameters and buffers in the order PyTorch's Module.state_dict() produces them.
StateDict module_state_dict(const torch::nn::Module& module);

void save_state_dict(const StateDict& state, const std::string& path);  // atomic
// Tensors that were views of one storage in Python share it here too.
StateDict load_state_dict_file(const std::string& path);

struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;      // in the module, absent from the file
  std::vector<std::string> unexpected;   // in the file, absent from the module
  std::vector<std::string> mismatched;   // "key: file [..] vs model [..]"
  std::string summary() const;
};

struct LoadPolicy {
  bool strict = true;
  // BatchNorm's num_batches_tracked is absent from checkpoints saved before PyTorch 0.4.1 (e.g. the
  // original torchvision ResNet files); PyTorch itself accepts them, so do we.
  bool allow_missing_batch_counters = true;
  // Prepended to key names in messages and reports, when the module is a part of what the file holds
  // (e.g. "head." for a classifier head), so users see the key as it is in the file.
  std::string key_prefix;
};

// Copies matching tensors into the module. In strict mode any missing/unexpected/mismatched key throws
// Error("<origin>: ..." naming the first problem and both shapes); otherwise the report lists them.
LoadReport load_into_module(torch::nn::Module& module, const StateDict& state, const std::string& origin,
                            const LoadPolicy& policy = {});

std::string shape_string(const torch::Tensor& tensor);

}  // namespace cargovision
