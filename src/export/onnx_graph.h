#pragma once
// A small builder for ONNX graphs: initializers from tensors, nodes with unique output names, graph inputs and
// outputs with a symbolic batch dimension, metadata. The protobuf types stay in onnx_graph.cpp.

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace cargovision::onnx_export {

struct Attribute {
  using Value = std::variant<int64_t, float, std::string, std::vector<int64_t>, std::vector<float>>;
  std::string name;
  Value value;
};
using Attributes = std::vector<Attribute>;

enum class ElementType { kFloat, kInt64 };

class GraphBuilder {
 public:
  explicit GraphBuilder(std::string graph_name);
  ~GraphBuilder();
  GraphBuilder(const GraphBuilder&) = delete;
  GraphBuilder& operator=(const GraphBuilder&) = delete;

  // A constant tensor (float32 or int64; other float types are stored as float32) under `name`, made
  // unique if taken. Returns the name to use as a node input.
  std::string initializer(const std::string& name, const torch::Tensor& value);
  std::string int64s(const std::string& name, const std::vector<int64_t>& values);  // a 1-D int64 constant

  // One node with one output, named after `hint` (made unique). Returns the output's name.
  std::string node(const std::string& op, const std::vector<std::string>& inputs, const Attributes& attributes = {},
                   const std::string& hint = "");
  // One node with `count` outputs.
  std::vector<std::string> node(const std::string& op, const std::vector<std::string>& inputs, int count,
                                const Attributes& attributes, const std::string& hint);
  // Renames the value `from` to the graph output `name` (an Identity node).
  void output(const std::string& from, const std::string& name, ElementType type, const std::vector<std::string>& dims);
  // A graph input; a non-numeric dimension ("batch") is symbolic.
  void input(const std::string& name, ElementType type, const std::vector<std::string>& dims);

  void metadata(const std::string& key, const std::string& value);
  std::size_t node_count() const;

  // The model (opset `opset` of the default domain), checked with ONNX's checker and shape inference, serialised.
  std::string serialize(int opset, const std::string& producer_version) const;

 private:
  std::string unique(const std::string& hint);
  struct Proto;
  std::unique_ptr<Proto> proto_;
};

}  // namespace cargovision::onnx_export
