#include "onnx_graph.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <cctype>
#include <unordered_map>
#include <unordered_set>

#include "cargovision/core/error.h"

namespace cargovision::onnx_export {

struct GraphBuilder::Proto {
  onnx::ModelProto model;
  std::unordered_set<std::string> names;
  std::unordered_map<std::string, std::string> initializers;  // requested name + storage -> the name given
};

namespace {

int32_t tensor_type(ElementType type) {
  return type == ElementType::kInt64 ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT;
}

void describe(onnx::ValueInfoProto* info, const std::string& name, ElementType type,
              const std::vector<std::string>& dims) {
  info->set_name(name);
  auto* tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(tensor_type(type));
  auto* shape = tensor->mutable_shape();
  for (const auto& dim : dims) {
    auto* d = shape->add_dim();
    const bool numeric = !dim.empty() && std::all_of(dim.begin(), dim.end(), [](unsigned char c) { return std::isdigit(c); });
    if (numeric) d->set_dim_value(std::stoll(dim));
    else d->set_dim_param(dim);
  }
}

void set_attribute(onnx::AttributeProto* proto, const Attribute& attribute) {
  proto->set_name(attribute.name);
  std::visit(
      [proto](const auto& value) {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          proto->set_type(onnx::AttributeProto::INT);
          proto->set_i(value);
        } else if constexpr (std::is_same_v<T, float>) {
          proto->set_type(onnx::AttributeProto::FLOAT);
          proto->set_f(value);
        } else if constexpr (std::is_same_v<T, std::string>) {
          proto->set_type(onnx::AttributeProto::STRING);
          proto->set_s(value);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          proto->set_type(onnx::AttributeProto::INTS);
          for (const auto v : value) proto->add_ints(v);
        } else {
          proto->set_type(onnx::AttributeProto::FLOATS);
          for (const auto v : value) proto->add_floats(v);
        }
      },
      attribute.value);
}

}  // namespace

GraphBuilder::GraphBuilder(std::string graph_name) : proto_(std::make_unique<Proto>()) {
  proto_->model.mutable_graph()->set_name(std::move(graph_name));
}

GraphBuilder::~GraphBuilder() = default;

std::string GraphBuilder::unique(const std::string& hint) {
  const std::string base = hint.empty() ? "value" : hint;
  std::string name = base;
  for (int suffix = 1; !proto_->names.insert(name).second; ++suffix) name = fmt::format("{}_{}", base, suffix);
  return name;
}

std::string GraphBuilder::initializer(const std::string& name, const torch::Tensor& value) {
  // A weight used at several places (the GRCL's recurrent convolutions) is stored once.
  const std::string key = fmt::format("{}@{}:{}:{}", name, value.data_ptr(), fmt::join(value.sizes(), "x"),
                                      fmt::join(value.strides(), "x"));
  if (const auto it = proto_->initializers.find(key); it != proto_->initializers.end()) return it->second;
  const torch::Tensor cpu = value.detach().to(torch::kCPU);
  const bool integral = !cpu.is_floating_point();
  const torch::Tensor data = (integral ? cpu.to(torch::kLong) : cpu.to(torch::kFloat)).contiguous();
  auto* tensor = proto_->model.mutable_graph()->add_initializer();
  const std::string unique_name = unique(name);
  tensor->set_name(unique_name);
  tensor->set_data_type(integral ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT);
  for (const auto size : data.sizes()) tensor->add_dims(size);
  tensor->set_raw_data(std::string(static_cast<const char*>(data.data_ptr()), data.nbytes()));
  proto_->initializers.emplace(key, unique_name);
  return unique_name;
}

std::string GraphBuilder::int64s(const std::string& name, const std::vector<int64_t>& values) {
  return initializer(name, torch::tensor(values, torch::kLong));
}

std::vector<std::string> GraphBuilder::node(const std::string& op, const std::vector<std::string>& inputs, int count,
                                            const Attributes& attributes, const std::string& hint) {
  auto* node = proto_->model.mutable_graph()->add_node();
  node->set_op_type(op);
  const std::string base = hint.empty() ? op : hint;
  node->set_name(unique("node/" + base));
  for (const auto& input : inputs) node->add_input(input);
  std::vector<std::string> outputs;
  for (int i = 0; i < count; ++i) {
    outputs.push_back(unique(count == 1 ? base : fmt::format("{}:{}", base, i)));
    node->add_output(outputs.back());
  }
  for (const auto& attribute : attributes) set_attribute(node->add_attribute(), attribute);
  return outputs;
}

std::string GraphBuilder::node(const std::string& op, const std::vector<std::string>& inputs,
                               const Attributes& attributes, const std::string& hint) {
  return node(op, inputs, 1, attributes, hint).front();
}

void GraphBuilder::input(const std::string& name, ElementType type, const std::vector<std::string>& dims) {
  require(proto_->names.insert(name).second, "onnx export: the name '{}' is taken", name);
  describe(proto_->model.mutable_graph()->add_input(), name, type, dims);
}

void GraphBuilder::output(const std::string& from, const std::string& name, ElementType type,
                          const std::vector<std::string>& dims) {
  require(proto_->names.insert(name).second, "onnx export: the name '{}' is taken", name);
  auto* node = proto_->model.mutable_graph()->add_node();
  node->set_op_type("Identity");
  node->set_name(unique("node/" + name));
  node->add_input(from);
  node->add_output(name);
  describe(proto_->model.mutable_graph()->add_output(), name, type, dims);
}

void GraphBuilder::metadata(const std::string& key, const std::string& value) {
  auto* entry = proto_->model.add_metadata_props();
  entry->set_key(key);
  entry->set_value(value);
}

std::size_t GraphBuilder::node_count() const { return static_cast<std::size_t>(proto_->model.graph().node_size()); }

std::string GraphBuilder::serialize(int opset, const std::string& producer_version) const {
  onnx::ModelProto model = proto_->model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("cargovision");
  model.set_producer_version(producer_version);
  auto* import = model.add_opset_import();
  import->set_domain("");
  import->set_version(opset);
  try {
    onnx::checker::check_model(model);
    // Strict: a node whose shapes do not fit its inputs is an exporter bug, better found here than by a user.
    onnx::ShapeInferenceOptions options(/*check_type=*/true, /*strict_mode=*/1, /*data_prop=*/false);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    throw Error(fmt::format("onnx export: the graph fails ONNX's checker: {}", e.what()));
  }
  std::string bytes;
  require(model.SerializeToString(&bytes), "onnx export: the model could not be serialised");
  return bytes;
}

}  // namespace cargovision::onnx_export
