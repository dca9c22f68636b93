#pragma once
// A safe subset of Python's pickle, enough for what torch.save writes: protocol 2 to 5 opcodes for
// None/bool/int/float/str/bytes/tuple/list/dict, memo, marks, and globals only from an allow-list that
// the caller gives. REDUCE/NEWOBJ and persistent ids are handed to the caller's hooks, so nothing in a
// file is ever executed. Torch-free; every read is bounds-checked (see tests/fuzz).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cargovision::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

enum class Kind { None, Bool, Int, BigInt, Float, String, Bytes, Tuple, List, Dict, Global, Opaque };

struct Value {
  Kind kind = Kind::None;
  bool boolean = false;
  std::int64_t integer = 0;
  double real = 0.0;
  std::string text;                                    // String, Bytes, BigInt (LE two's complement), Global "module.name"
  std::vector<ValuePtr> items;                         // Tuple, List
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;  // Dict, in insertion order
  std::int64_t handle = -1;                            // Opaque: what a hook made of a REDUCE or persistent id
  // Containers are filled before they go into another one; after that they are frozen, which rules out
  // reference cycles. depth bounds nesting.
  bool frozen = false;
  int depth = 0;

  const char* kind_name() const;
  // The dict entry with this string key, or nullptr.
  ValuePtr find(const std::string& key) const;
};

struct Hooks {
  // Whether GLOBAL module.name may be loaded at all; anything else is refused with its name.
  std::function<bool(const std::string& qualified_name)> allow_global;
  // REDUCE and NEWOBJ of an allowed global with its arguments.
  std::function<ValuePtr(const std::string& qualified_name, const std::vector<ValuePtr>& arguments)> call;
  // BINPERSID: the persistent id (torch's storage references).
  std::function<ValuePtr(const ValuePtr& persistent_id)> persistent_load;
};

// Runs one pickle starting at `position` up to its STOP and returns the object; `position` is left just
// past the STOP. Errors name `origin` and the byte offset.
ValuePtr load(std::string_view bytes, std::size_t& position, const Hooks& hooks, const std::string& origin);

ValuePtr make_int(std::int64_t value);
ValuePtr make_opaque(std::int64_t handle);

}  // namespace cargovision::pickle
