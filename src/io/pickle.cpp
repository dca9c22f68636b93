#include "cargovision/io/pickle.h"

#include <cstring>
#include <unordered_map>

#include "cargovision/core/error.h"

namespace cargovision::pickle {
namespace {

constexpr std::size_t kMaxStack = 1u << 20;
constexpr std::size_t kMaxMemo = 1u << 22;
constexpr int kMaxDepth = 200;

ValuePtr make(Kind kind) {
  auto value = std::make_shared<Value>();
  value->kind = kind;
  return value;
}

bool is_container(const Value& value) {
  return value.kind == Kind::Tuple || value.kind == Kind::List || value.kind == Kind::Dict;
}

class Machine {
 public:
  Machine(std::string_view bytes, std::size_t position, const Hooks& hooks, const std::string& origin)
      : bytes_(bytes), position_(position), hooks_(hooks), origin_(origin) {}

  ValuePtr run(std::size_t& end) {
    while (true) {
      opcode_at_ = position_;
      const auto opcode = static_cast<unsigned char>(read_bytes(1)[0]);
      switch (opcode) {
        case 0x80: read_bytes(1); break;  // PROTO
        case 0x95: read_bytes(8); break;  // FRAME: framing is only a read-ahead hint
        case '.': {                       // STOP
          require(stack_.size() == 1 && marks_.empty(), "{}: malformed pickle (stack of {} at STOP, byte {})", origin_,
                  stack_.size(), opcode_at_);
          end = position_;
          return stack_.back();
        }
        case '(': marks_.push_back(stack_.size()); break;
        case ')': push(make(Kind::Tuple)); break;
        case ']': push(make(Kind::List)); break;
        case '}': push(make(Kind::Dict)); break;
        case 'N': push(make(Kind::None)); break;
        case 0x88: case 0x89: {
          auto value = make(Kind::Bool);
          value->boolean = opcode == 0x88;
          push(value);
          break;
        }
        case 'J': push(make_int(static_cast<std::int32_t>(read_unsigned(4)))); break;
        case 'K': push(make_int(static_cast<std::int64_t>(read_unsigned(1)))); break;
        case 'M': push(make_int(static_cast<std::int64_t>(read_unsigned(2)))); break;
        case 0x8a: push(read_long(read_unsigned(1))); break;  // LONG1
        case 0x8b: push(read_long(read_unsigned(4))); break;  // LONG4
        case 'G': {
          std::uint64_t bits = 0;
          for (char c : read_bytes(8)) bits = (bits << 8) | static_cast<unsigned char>(c);  // big-endian
          auto value = make(Kind::Float);
          std::memcpy(&value->real, &bits, sizeof bits);
          push(value);
          break;
        }
        case 'X': push(make_text(Kind::String, read_unsigned(4))); break;
        case 0x8c: push(make_text(Kind::String, read_unsigned(1))); break;
        case 0x8d: push(make_text(Kind::String, read_unsigned(8))); break;
        case 'T': push(make_text(Kind::String, read_unsigned(4))); break;  // Python 2 str
        case 'U': push(make_text(Kind::String, read_unsigned(1))); break;
        case 'B': push(make_text(Kind::Bytes, read_unsigned(4))); break;
        case 'C': push(make_text(Kind::Bytes, read_unsigned(1))); break;
        case 0x8e: push(make_text(Kind::Bytes, read_unsigned(8))); break;
        case 'q': memo_put(read_unsigned(1)); break;
        case 'r': memo_put(read_unsigned(4)); break;
        case 0x94: memo_put(memo_.size()); break;  // MEMOIZE
        case 'h': push(memo_get(read_unsigned(1))); break;
        case 'j': push(memo_get(read_unsigned(4))); break;
        case 'c': {
          const std::string module = read_line();
          const std::string name = read_line();
          push(global(module + "." + name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          const auto name = pop();
          const auto module = pop();
          require(module->kind == Kind::String && name->kind == Kind::String, "{}: malformed STACK_GLOBAL at byte {}",
                  origin_, opcode_at_);
          push(global(module->text + "." + name->text));
          break;
        }
        case 't': push(tuple(pop_to_mark())); break;
        case 0x85: case 0x86: case 0x87: {
          std::vector<ValuePtr> items(opcode - 0x84);
          for (auto it = items.rbegin(); it != items.rend(); ++it) *it = pop();
          push(tuple(std::move(items)));
          break;
        }
        case 'a': {
          auto item = pop();
          append(top(), std::move(item));
          break;
        }
        case 'e': {
          auto items = pop_to_mark();
          auto list = top();
          for (auto& item : items) append(list, std::move(item));
          break;
        }
        case 's': {
          auto value = pop();
          auto key = pop();
          set_item(top(), std::move(key), std::move(value));
          break;
        }
        case 'u': {
          auto items = pop_to_mark();
          require(items.size() % 2 == 0, "{}: malformed SETITEMS at byte {} (odd item count)", origin_, opcode_at_);
          auto dict = top();
          for (std::size_t i = 0; i < items.size(); i += 2) set_item(dict, std::move(items[i]), std::move(items[i + 1]));
          break;
        }
        case 'R': case 0x81: {  // REDUCE, NEWOBJ
          const auto arguments = pop();
          const auto callable = pop();
          require(callable->kind == Kind::Global && arguments->kind == Kind::Tuple,
                  "{}: malformed {} at byte {}: needs a global and an argument tuple", origin_,
                  opcode == 'R' ? "REDUCE" : "NEWOBJ", opcode_at_);
          auto result = hooks_.call(callable->text, arguments->items);
          require(result != nullptr, "{}: cannot rebuild '{}' at byte {}", origin_, callable->text, opcode_at_);
          push(std::move(result));
          break;
        }
        case 'b': {  // BUILD: the state of an OrderedDict (_metadata) or of a Parameter carries nothing we use
          pop();
          const auto& target = top();
          require(target->kind == Kind::Dict || target->kind == Kind::Opaque,
                  "{}: BUILD on a {} at byte {} is not part of a state dict", origin_, target->kind_name(), opcode_at_);
          break;
        }
        case 'Q': {
          auto id = pop();
          require(static_cast<bool>(hooks_.persistent_load), "{}: unexpected persistent id at byte {}", origin_, opcode_at_);
          auto result = hooks_.persistent_load(id);
          require(result != nullptr, "{}: unknown persistent id at byte {}", origin_, opcode_at_);
          push(std::move(result));
          break;
        }
        case '0': pop(); break;
        case '2': push(top()); break;
        case '1': pop_to_mark(); break;
        default:
          throw Error(fmt::format("{}: pickle opcode 0x{:02x} at byte {} is not allowed in a state dict", origin_, opcode,
                                  opcode_at_));
      }
    }
  }

 private:
  std::string_view read_bytes(std::uint64_t count) {
    require(count <= bytes_.size() - position_, "{}: truncated pickle (byte {} needs {} more bytes, the data has {})",
            origin_, opcode_at_, count, bytes_.size() - position_);
    const auto view = bytes_.substr(position_, count);
    position_ += count;
    return view;
  }
  std::uint64_t read_unsigned(int width) {
    std::uint64_t value = 0;
    const auto raw = read_bytes(static_cast<std::uint64_t>(width));
    for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(raw[static_cast<std::size_t>(i)]);
    return value;
  }
  std::string read_line() {
    const auto newline = bytes_.find('\n', position_);
    require(newline != std::string_view::npos && newline - position_ < 256, "{}: malformed GLOBAL at byte {}", origin_,
            opcode_at_);
    std::string line(bytes_.substr(position_, newline - position_));
    position_ = newline + 1;
    return line;
  }
  ValuePtr read_long(std::uint64_t length) {
    require(length <= 64, "{}: integer of {} bytes at byte {} is too long for a state dict", origin_, length, opcode_at_);
    const auto raw = read_bytes(length);
    if (length <= 8) {
      std::uint64_t value = 0;
      for (std::size_t i = length; i-- > 0;) value = (value << 8) | static_cast<unsigned char>(raw[i]);
      if (length > 0 && length < 8 && (static_cast<unsigned char>(raw[length - 1]) & 0x80)) value |= ~0ull << (8 * length);
      return make_int(static_cast<std::int64_t>(value));
    }
    auto value = make(Kind::BigInt);
    value->text = std::string(raw);
    return value;
  }
  ValuePtr make_text(Kind kind, std::uint64_t length) {
    auto value = make(kind);
    value->text = std::string(read_bytes(length));
    return value;
  }
  ValuePtr global(const std::string& name) {
    require(hooks_.allow_global && hooks_.allow_global(name),
            "{}: refusing global '{}' (byte {}): only what a state dict needs may be loaded, nothing is executed", origin_,
            name, opcode_at_);
    auto value = make(Kind::Global);
    value->text = name;
    return value;
  }

  void push(ValuePtr value) {
    require(stack_.size() < kMaxStack, "{}: pickle stack exceeds {} entries", origin_, kMaxStack);
    stack_.push_back(std::move(value));
  }
  ValuePtr pop() {
    require(stack_.size() > (marks_.empty() ? 0 : marks_.back()), "{}: malformed pickle (pop from an empty stack at byte {})",
            origin_, opcode_at_);
    auto value = std::move(stack_.back());
    stack_.pop_back();
    return value;
  }
  const ValuePtr& top() const {
    require(stack_.size() > (marks_.empty() ? 0 : marks_.back()), "{}: malformed pickle (empty stack at byte {})", origin_,
            opcode_at_);
    return stack_.back();
  }
  std::vector<ValuePtr> pop_to_mark() {
    require(!marks_.empty(), "{}: malformed pickle (no MARK for byte {})", origin_, opcode_at_);
    const auto mark = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(mark)),
                                std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
  }
  void memo_put(std::uint64_t index) {
    require(memo_.size() < kMaxMemo || memo_.count(index), "{}: pickle memo exceeds {} entries", origin_, kMaxMemo);
    memo_[index] = top();
  }
  ValuePtr memo_get(std::uint64_t index) {
    const auto found = memo_.find(index);
    require(found != memo_.end(), "{}: malformed pickle (memo {} unset at byte {})", origin_, index, opcode_at_);
    return found->second;
  }

  // A container entering another one is frozen; a frozen container cannot change, so no cycles.
  void adopt(Value& parent, Value& child) {
    require(&parent != &child, "{}: a container cannot hold itself (byte {})", origin_, opcode_at_);
    if (is_container(child)) {
      child.frozen = true;
      parent.depth = std::max(parent.depth, child.depth + 1);
      require(parent.depth <= kMaxDepth, "{}: pickle nests deeper than {} levels", origin_, kMaxDepth);
    }
  }
  ValuePtr tuple(std::vector<ValuePtr> items) {
    auto value = make(Kind::Tuple);
    for (auto& item : items) adopt(*value, *item);
    value->items = std::move(items);
    return value;
  }
  void append(const ValuePtr& list, ValuePtr item) {
    require(list->kind == Kind::List && !list->frozen, "{}: APPEND to a {} at byte {}", origin_, list->kind_name(), opcode_at_);
    adopt(*list, *item);
    list->items.push_back(std::move(item));
  }
  void set_item(const ValuePtr& dict, ValuePtr key, ValuePtr value) {
    require(dict->kind == Kind::Dict && !dict->frozen, "{}: SETITEM on a {} at byte {}", origin_, dict->kind_name(), opcode_at_);
    adopt(*dict, *key);
    adopt(*dict, *value);
    if (key->kind == Kind::String) {
      for (auto& entry : dict->entries) {
        if (entry.first->kind == Kind::String && entry.first->text == key->text) {
          entry.second = std::move(value);  // Python keeps the first position and the last value
          return;
        }
      }
    }
    dict->entries.emplace_back(std::move(key), std::move(value));
  }

  std::string_view bytes_;
  std::size_t position_;
  std::size_t opcode_at_ = 0;
  const Hooks& hooks_;
  const std::string& origin_;
  std::vector<ValuePtr> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, ValuePtr> memo_;
};

}  // namespace

const char* Value::kind_name() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: case Kind::BigInt: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::Opaque: return "object";
  }
  return "?";
}

ValuePtr Value::find(const std::string& key) const {
  for (const auto& entry : entries) {
    if (entry.first->kind == Kind::String && entry.first->text == key) return entry.second;
  }
  return nullptr;
}

ValuePtr make_int(std::int64_t value) {
  auto result = make(Kind::Int);
  result->integer = value;
  return result;
}

ValuePtr make_opaque(std::int64_t handle) {
  auto result = make(Kind::Opaque);
  result->handle = handle;
  return result;
}

ValuePtr load(std::string_view bytes, std::size_t& position, const Hooks& hooks, const std::string& origin) {
  require(position <= bytes.size(), "{}: no pickle at byte {}", origin, position);
  Machine machine(bytes, position, hooks, origin);
  return machine.run(position);
}

}  // namespace cargovision::pickle
