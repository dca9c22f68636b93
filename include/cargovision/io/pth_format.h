#pragma once
// What a PyTorch .pth file holds, parsed without running it: the zip format of torch.save since 1.6
// and the legacy format before it (the original recognizer's published models), OrderedDict or dict
// roots, and checkpoint dicts that wrap the state dict. The result names every tensor with its dtype,
// storage, offset, sizes and strides, and gives each storage's bytes; building tensors from it is the
// caller's job (io/state_dict.h). Torch-free, so the fuzz target can build it alone.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cargovision {

enum class PthDtype { Float32, Float16, BFloat16, Float64, Int64, Int32, Int16, Int8, UInt8, Bool };

int element_size(PthDtype dtype);
const char* dtype_name(PthDtype dtype);

struct PthStorage {
  PthDtype dtype = PthDtype::Float32;
  std::int64_t numel = 0;
  std::string_view bytes;  // numel * element_size bytes in the file's byte order, inside the file buffer
};

struct PthTensor {
  std::string storage;  // key into PthFile::storages
  std::int64_t offset = 0;
  std::vector<std::int64_t> sizes, strides;
};

struct PthFile {
  bool legacy_format = false;
  bool big_endian = false;
  std::string wrapper_key;  // "state_dict" etc. when the state dict was found inside a checkpoint dict
  std::vector<std::pair<std::string, PthTensor>> tensors;  // in file order
  std::map<std::string, PthStorage> storages;
};

// Parses `bytes` (which must outlive the result). Every inconsistency is an Error naming `origin`: a
// global outside the allow-list, a truncated file, a storage shorter than a tensor needs, a root that is
// not a name -> tensor dict.
PthFile parse_pth(std::string_view bytes, const std::string& origin);

}  // namespace cargovision
