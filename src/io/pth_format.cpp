#include "cargovision/io/pth_format.h"

#include <limits>
#include <set>

#include "cargovision/core/error.h"
#include "cargovision/io/pickle.h"
#include "cargovision/io/zip_archive.h"

namespace cargovision {
namespace {

using pickle::Kind;
using pickle::ValuePtr;

// 0x1950a86a20f9469cfc6c, the legacy format's magic number, as pickle's little-endian LONG1 bytes.
constexpr char kLegacyMagic[] = "\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";
constexpr int kMaxDims = 32;

const std::map<std::string, PthDtype>& storage_types() {
  static const std::map<std::string, PthDtype> types = {
      {"torch.FloatStorage", PthDtype::Float32}, {"torch.HalfStorage", PthDtype::Float16},
      {"torch.BFloat16Storage", PthDtype::BFloat16}, {"torch.DoubleStorage", PthDtype::Float64},
      {"torch.LongStorage", PthDtype::Int64},    {"torch.IntStorage", PthDtype::Int32},
      {"torch.ShortStorage", PthDtype::Int16},   {"torch.CharStorage", PthDtype::Int8},
      {"torch.ByteStorage", PthDtype::UInt8},    {"torch.BoolStorage", PthDtype::Bool},
  };
  return types;
}

const std::set<std::string>& callables() {
  static const std::set<std::string> names = {
      "collections.OrderedDict", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
      "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
      // LibTorch's torch::pickle_save tags typed containers with it; it returns its first argument.
      "torch.jit._pickle.restore_type_tag"};
  return names;
}

// A storage as a tensor refers to it: the root storage's key plus an element offset (legacy views).
struct StorageRef {
  std::string key;
  std::int64_t offset = 0;
};

class Reader {
 public:
  Reader(std::string_view bytes, const std::string& origin) : bytes_(bytes), origin_(origin) {
    hooks_.allow_global = [](const std::string& name) { return callables().count(name) || storage_types().count(name); };
    hooks_.call = [this](const std::string& name, const std::vector<ValuePtr>& arguments) { return call(name, arguments); };
    hooks_.persistent_load = [this](const ValuePtr& id) { return persistent_load(id); };
  }

  PthFile read() {
    ValuePtr root = looks_like_zip(bytes_) ? read_zip() : read_legacy();
    select_state_dict(root);
    check_tensors();
    return std::move(file_);
  }

 private:
  ValuePtr read_zip() {
    const ZipArchive archive(bytes_, origin_);
    std::string prefix;
    bool found = false;
    for (const auto& [name, data] : archive.entries()) {
      const auto slash = name.find('/');
      if (name == "data.pkl" || (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0)) {
        prefix = name.substr(0, name.size() - 8);
        found = true;
        break;
      }
    }
    require(found, "{}: zip archive without data.pkl: not a torch.save file", origin_);
    if (archive.contains(prefix + "byteorder")) {
      const auto order = archive.entry(prefix + "byteorder");
      require(order == "little" || order == "big", "{}: unknown byteorder '{}'", origin_, std::string(order));
      file_.big_endian = order == "big";
    }
    const auto data = archive.entry(prefix + "data.pkl");
    std::size_t position = 0;
    ValuePtr root = pickle::load(data, position, hooks_, origin_);
    for (auto& [key, storage] : file_.storages) {
      const std::string entry = prefix + "data/" + key;
      require(archive.contains(entry), "{}: storage '{}' is missing from the archive", origin_, key);
      const auto stored = archive.entry(entry);
      const auto needed = static_cast<std::uint64_t>(storage.numel) * static_cast<std::uint64_t>(element_size(storage.dtype));
      require(stored.size() >= needed, "{}: storage 'data/{}' holds {} bytes, but its {} {} elements need {}", origin_, key,
              stored.size(), storage.numel, dtype_name(storage.dtype), needed);
      storage.bytes = stored.substr(0, needed);
    }
    return root;
  }

  ValuePtr read_legacy() {
    file_.legacy_format = true;
    std::size_t position = 0;
    pickle::Hooks plain;  // the header pickles hold plain values only
    const ValuePtr magic = load_header(position, plain, "magic number");
    require(magic->kind == Kind::BigInt && magic->text == std::string(kLegacyMagic, 10),
            "{}: not a PyTorch file (neither a zip archive nor the legacy format's magic number)", origin_);
    const ValuePtr protocol = load_header(position, plain, "protocol version");
    require(protocol->kind == Kind::Int && protocol->integer == 1001, "{}: unsupported legacy protocol version", origin_);
    const ValuePtr sys_info = load_header(position, plain, "system information");
    require(sys_info->kind == Kind::Dict, "{}: malformed legacy header", origin_);
    if (const auto little = sys_info->find("little_endian")) file_.big_endian = little->kind == Kind::Bool && !little->boolean;
    ValuePtr root = pickle::load(bytes_, position, hooks_, origin_);
    const ValuePtr keys = pickle::load(bytes_, position, plain, origin_);
    require(keys->kind == Kind::List, "{}: malformed legacy storage list", origin_);
    for (const auto& key : keys->items) {
      require(key->kind == Kind::String, "{}: malformed legacy storage key", origin_);
      const auto found = file_.storages.find(key->text);
      require(found != file_.storages.end(), "{}: storage '{}' is listed but no tensor uses it", origin_, key->text);
      PthStorage& storage = found->second;
      require(bytes_.size() - position >= 8, "{}: truncated file: storage '{}' has no size", origin_, key->text);
      std::uint64_t count = 0;
      for (int i = 0; i < 8; ++i) {
        const auto byte = static_cast<unsigned char>(bytes_[position + static_cast<std::size_t>(file_.big_endian ? i : 7 - i)]);
        count = (count << 8) | byte;
      }
      position += 8;
      require(count == static_cast<std::uint64_t>(storage.numel), "{}: storage '{}' holds {} elements, the tensors claim {}",
              origin_, key->text, count, storage.numel);
      const auto needed = count * static_cast<std::uint64_t>(element_size(storage.dtype));
      require(bytes_.size() - position >= needed, "{}: truncated file: storage '{}' needs {} bytes, {} are left", origin_,
              key->text, needed, bytes_.size() - position);
      storage.bytes = bytes_.substr(position, needed);
      position += needed;
    }
    for (const auto& [key, storage] : file_.storages) {
      require(storage.numel == 0 || !storage.bytes.empty(), "{}: storage '{}' is used but never stored", origin_, key);
    }
    return root;
  }

  ValuePtr load_header(std::size_t& position, const pickle::Hooks& hooks, const char* what) {
    try {
      return pickle::load(bytes_, position, hooks, origin_);
    } catch (const Error&) {
      throw Error(fmt::format("{}: not a PyTorch file (neither a zip archive nor the legacy format: no {} at byte {})", origin_, what, position));
    }
  }

  ValuePtr persistent_load(const ValuePtr& id) {
    require(id->kind == Kind::Tuple && id->items.size() >= 5 && id->items[0]->kind == Kind::String &&
                id->items[0]->text == "storage" && id->items[1]->kind == Kind::Global &&
                id->items[2]->kind == Kind::String && id->items[4]->kind == Kind::Int,
            "{}: unsupported persistent id (expected ('storage', type, key, location, size))", origin_);
    const auto type = storage_types().find(id->items[1]->text);
    require(type != storage_types().end(), "{}: '{}' is not a storage type", origin_, id->items[1]->text);
    const PthDtype dtype = type->second;
    const std::string& key = id->items[2]->text;
    const std::int64_t numel = id->items[4]->integer;
    require(numel >= 0 && static_cast<std::uint64_t>(numel) <= bytes_.size(),
            "{}: storage '{}' claims {} elements, more than the file could hold", origin_, key, numel);
    const auto [it, inserted] = file_.storages.try_emplace(key, PthStorage{dtype, numel, {}});
    require(it->second.dtype == dtype && it->second.numel == numel, "{}: storage '{}' is declared twice differently", origin_, key);
    StorageRef ref{key, 0};
    if (file_.legacy_format && id->items.size() >= 6 && id->items[5]->kind == Kind::Tuple) {
      // (view_key, offset, view_size): a view into the root storage, from PyTorch < 0.4.
      const auto& view = id->items[5]->items;
      require(view.size() == 3 && view[1]->kind == Kind::Int && view[2]->kind == Kind::Int && view[1]->integer >= 0 &&
                  view[2]->integer >= 0 && view[1]->integer <= numel - view[2]->integer,
              "{}: malformed storage view of '{}'", origin_, key);
      ref.offset = view[1]->integer;
    }
    refs_.push_back(ref);
    auto value = pickle::make_opaque(static_cast<std::int64_t>(refs_.size() - 1));
    value->text = "storage";
    return value;
  }

  ValuePtr call(const std::string& name, const std::vector<ValuePtr>& arguments) {
    require(callables().count(name) != 0, "{}: refusing to call '{}'", origin_, name);
    if (name == "collections.OrderedDict") {
      require(arguments.empty(), "{}: OrderedDict with arguments is not part of a state dict", origin_);
      auto dict = std::make_shared<pickle::Value>();
      dict->kind = Kind::Dict;
      return dict;
    }
    if (name == "torch.jit._pickle.restore_type_tag") {
      require(arguments.size() == 2, "{}: malformed type tag", origin_);
      return arguments[0];
    }
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
      require(!arguments.empty() && is_tensor(arguments[0]), "{}: malformed parameter", origin_);
      return arguments[0];
    }
    // _rebuild_tensor(storage, offset, size, stride[, requires_grad, hooks[, metadata]])
    require(arguments.size() >= 4 && is_storage(arguments[0]) && arguments[1]->kind == Kind::Int &&
                arguments[2]->kind == Kind::Tuple && arguments[3]->kind == Kind::Tuple &&
                arguments[2]->items.size() == arguments[3]->items.size() &&
                arguments[2]->items.size() <= static_cast<std::size_t>(kMaxDims),
            "{}: malformed tensor record ({})", origin_, name);
    const StorageRef& ref = refs_[static_cast<std::size_t>(arguments[0]->handle)];
    PthTensor tensor;
    tensor.storage = ref.key;
    require(arguments[1]->integer >= 0 && arguments[1]->integer <= std::numeric_limits<std::int64_t>::max() / 2,
            "{}: tensor with a bad storage offset", origin_);
    tensor.offset = ref.offset + arguments[1]->integer;
    for (std::size_t d = 0; d < arguments[2]->items.size(); ++d) {
      const auto& size = arguments[2]->items[d];
      const auto& stride = arguments[3]->items[d];
      require(size->kind == Kind::Int && stride->kind == Kind::Int && size->integer >= 0 && stride->integer >= 0,
              "{}: tensor with a negative or non-integer size/stride", origin_);
      tensor.sizes.push_back(size->integer);
      tensor.strides.push_back(stride->integer);
    }
    pending_.push_back(std::move(tensor));
    auto value = pickle::make_opaque(static_cast<std::int64_t>(pending_.size() - 1));
    value->text = "tensor";
    return value;
  }

  static bool is_tensor(const ValuePtr& value) { return value->kind == Kind::Opaque && value->text == "tensor"; }
  static bool is_storage(const ValuePtr& value) { return value->kind == Kind::Opaque && value->text == "storage"; }

  bool all_tensors(const pickle::Value& dict) const {
    for (const auto& [key, value] : dict.entries) {
      if (key->kind != Kind::String || !is_tensor(value)) return false;
    }
    return true;
  }

  void select_state_dict(const ValuePtr& root) {
    require(root->kind == Kind::Dict, "{}: the file holds a {}, not a state dict (a dict of name -> tensor)", origin_,
            root->kind_name());
    const pickle::Value* state = root.get();
    if (!all_tensors(*root)) {
      for (const char* key : {"state_dict", "model_state_dict", "model"}) {
        const auto inner = root->find(key);
        if (inner && inner->kind == Kind::Dict) {
          state = inner.get();
          file_.wrapper_key = key;
          break;
        }
      }
    }
    for (const auto& [key, value] : state->entries) {
      require(key->kind == Kind::String, "{}: state dict key of type {}, expected str", origin_, key->kind_name());
      require(is_tensor(value), "{}: entry '{}'{} is a {}, expected a tensor{}", origin_, key->text,
              file_.wrapper_key.empty() ? "" : " of '" + file_.wrapper_key + "'", value->kind_name(),
              file_.wrapper_key.empty() && state == root.get()
                  ? " (checkpoint dicts are searched for 'state_dict', 'model_state_dict' or 'model')"
                  : "");
      file_.tensors.emplace_back(key->text, pending_[static_cast<std::size_t>(value->handle)]);
    }
  }

  void check_tensors() const {
    for (const auto& [name, tensor] : file_.tensors) {
      const PthStorage& storage = file_.storages.at(tensor.storage);
      bool empty = false;
      std::int64_t last = tensor.offset;  // the highest element index the tensor touches
      for (std::size_t d = 0; d < tensor.sizes.size(); ++d) {
        if (tensor.sizes[d] == 0) empty = true;
        if (tensor.sizes[d] > 1) {
          require(tensor.strides[d] <= (std::numeric_limits<std::int64_t>::max() - last) / (tensor.sizes[d] - 1),
                  "{}: tensor '{}' has an impossible shape", origin_, name);
          last += (tensor.sizes[d] - 1) * tensor.strides[d];
        }
      }
      require(empty || last < storage.numel,
              "{}: tensor '{}' reaches element {} of storage '{}', which holds {} elements", origin_, name, last,
              tensor.storage, storage.numel);
    }
  }

  std::string_view bytes_;
  const std::string& origin_;
  pickle::Hooks hooks_;
  PthFile file_;
  std::vector<StorageRef> refs_;
  std::vector<PthTensor> pending_;
};

}  // namespace

int element_size(PthDtype dtype) {
  switch (dtype) {
    case PthDtype::Float64: case PthDtype::Int64: return 8;
    case PthDtype::Float32: case PthDtype::Int32: return 4;
    case PthDtype::Float16: case PthDtype::BFloat16: case PthDtype::Int16: return 2;
    case PthDtype::Int8: case PthDtype::UInt8: case PthDtype::Bool: return 1;
  }
  return 1;
}

const char* dtype_name(PthDtype dtype) {
  switch (dtype) {
    case PthDtype::Float32: return "float32";
    case PthDtype::Float16: return "float16";
    case PthDtype::BFloat16: return "bfloat16";
    case PthDtype::Float64: return "float64";
    case PthDtype::Int64: return "int64";
    case PthDtype::Int32: return "int32";
    case PthDtype::Int16: return "int16";
    case PthDtype::Int8: return "int8";
    case PthDtype::UInt8: return "uint8";
    case PthDtype::Bool: return "bool";
  }
  return "?";
}

PthFile parse_pth(std::string_view bytes, const std::string& origin) {
  require(!bytes.empty(), "{}: empty file", origin);
  return Reader(bytes, origin).read();
}

}  // namespace cargovision
