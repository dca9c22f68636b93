#include "module_emitter.h"

#include <c10/util/irange.h>
#include <fmt/format.h>

#include "cargovision/core/error.h"
#include "cargovision/models/efficientnet.h"
#include "cargovision/models/layers.h"
#include "cargovision/models/mobilenet_v2.h"
#include "cargovision/models/resnet.h"
#include "cargovision/ocr/feature_extraction.h"
#include "cargovision/ocr/sequence_prediction.h"

namespace cargovision::onnx_export {
namespace nn = torch::nn;
namespace {

const nn::Module& child(const nn::Module& module, const std::string& name) {
  for (const auto& item : module.named_children()) {
    if (item.key() == name) return *item.value();
  }
  throw Error(fmt::format("onnx export: {} has no submodule '{}'", module.name(), name));
}

std::string join(const std::string& prefix, const std::string& name) { return prefix.empty() ? name : prefix + "." + name; }

const torch::Tensor& parameter(const nn::Module& module, const std::string& name) {
  const auto* found = module.named_parameters(/*recurse=*/false).find(name);
  require(found != nullptr, "onnx export: {} has no parameter '{}'", module.name(), name);
  return *found;
}

// PyTorch orders an LSTM's gate blocks input, forget, cell, output; ONNX input, output, forget, cell.
torch::Tensor onnx_gate_order(const torch::Tensor& blocks) {
  const auto gates = blocks.chunk(4, 0);
  return torch::cat({gates[0], gates[3], gates[1], gates[2]}, 0);
}

template <typename T>
const T* as(const nn::Module& module) {
  return dynamic_cast<const T*>(&module);
}

}  // namespace

std::string ModuleEmitter::relu(const std::string& x) { return graph_.node("Relu", {x}); }

std::string ModuleEmitter::add(const std::string& a, const std::string& b) { return graph_.node("Add", {a, b}); }

std::string ModuleEmitter::conv(const nn::Conv2dImpl& conv, const std::string& prefix, const std::string& x) {
  const auto& o = conv.options;
  require(c10::holds_alternative<torch::ExpandingArray<2>>(o.padding()),
          "onnx export: {}: only numeric convolution padding is exported", prefix);
  require(c10::holds_alternative<torch::enumtype::kZeros>(o.padding_mode()),
          "onnx export: {}: only zero padding is exported", prefix);
  const auto padding = *c10::get<torch::ExpandingArray<2>>(o.padding());
  std::vector<std::string> inputs{x, graph_.initializer(join(prefix, "weight"), conv.weight)};
  if (conv.bias.defined()) inputs.push_back(graph_.initializer(join(prefix, "bias"), conv.bias));
  return graph_.node("Conv", inputs,
                     {{"kernel_shape", std::vector<int64_t>{(*o.kernel_size())[0], (*o.kernel_size())[1]}},
                      {"strides", std::vector<int64_t>{(*o.stride())[0], (*o.stride())[1]}},
                      {"pads", std::vector<int64_t>{padding[0], padding[1], padding[0], padding[1]}},
                      {"dilations", std::vector<int64_t>{(*o.dilation())[0], (*o.dilation())[1]}},
                      {"group", static_cast<int64_t>(o.groups())}},
                     join(prefix, "conv"));
}

std::string ModuleEmitter::batch_norm(const models::BatchNorm2dImpl& norm, const std::string& prefix, const std::string& x) {
  const auto& o = norm.options;
  require(o.track_running_stats(), "onnx export: {}: a BatchNorm without running statistics cannot be exported", prefix);
  const int64_t channels = o.num_features();
  const auto scale = o.affine() ? norm.weight : torch::ones({channels});
  const auto shift = o.affine() ? norm.bias : torch::zeros({channels});
  return graph_.node("BatchNormalization",
                     {x, graph_.initializer(join(prefix, "weight"), scale), graph_.initializer(join(prefix, "bias"), shift),
                      graph_.initializer(join(prefix, "running_mean"), norm.running_mean),
                      graph_.initializer(join(prefix, "running_var"), norm.running_var)},
                     {{"epsilon", static_cast<float>(o.eps())}}, join(prefix, "bn"));
}

std::string ModuleEmitter::linear(const nn::LinearImpl& linear, const std::string& prefix, const std::string& x) {
  auto y = graph_.node("MatMul", {x, graph_.initializer(join(prefix, "weight_t"), linear.weight.t())}, {},
                       join(prefix, "matmul"));
  if (linear.bias.defined()) y = graph_.node("Add", {y, graph_.initializer(join(prefix, "bias"), linear.bias)});
  return y;
}

std::string ModuleEmitter::bidirectional_lstm(const nn::LSTMImpl& lstm, const std::string& prefix, const std::string& x) {
  const auto& o = lstm.options;
  require(o.num_layers() == 1 && o.bidirectional() && o.batch_first() && o.bias() && o.proj_size() == 0,
          "onnx export: {}: only one-layer bidirectional batch-first LSTMs with biases are exported", prefix);
  const auto weight = [&](const char* name) { return onnx_gate_order(parameter(lstm, name)); };
  const auto W = torch::stack({weight("weight_ih_l0"), weight("weight_ih_l0_reverse")});
  const auto R = torch::stack({weight("weight_hh_l0"), weight("weight_hh_l0_reverse")});
  const auto B = torch::stack({torch::cat({weight("bias_ih_l0"), weight("bias_hh_l0")}),
                               torch::cat({weight("bias_ih_l0_reverse"), weight("bias_hh_l0_reverse")})});
  const auto time_major = graph_.node("Transpose", {x}, {{"perm", std::vector<int64_t>{1, 0, 2}}});
  const auto y = graph_.node("LSTM",
                             {time_major, graph_.initializer(join(prefix, "W"), W), graph_.initializer(join(prefix, "R"), R),
                              graph_.initializer(join(prefix, "B"), B)},
                             {{"hidden_size", static_cast<int64_t>(o.hidden_size())}, {"direction", std::string("bidirectional")}},
                             join(prefix, "lstm"));
  // Y [T, 2, B, H] -> [B, T, 2, H] -> [B, T, 2H]: each step's forward state, then its backward state.
  const auto batch_major = graph_.node("Transpose", {y}, {{"perm", std::vector<int64_t>{2, 0, 1, 3}}});
  return graph_.node("Reshape", {batch_major, graph_.int64s("shape_keep2_flatten", {0, 0, -1})});
}

std::string ModuleEmitter::max_pool(const std::string& x, std::vector<int64_t> kernel, std::vector<int64_t> stride,
                                    std::vector<int64_t> padding, bool ceil_mode) {
  return graph_.node("MaxPool", {x},
                     {{"kernel_shape", kernel},
                      {"strides", stride},
                      {"pads", std::vector<int64_t>{padding[0], padding[1], padding[0], padding[1]}},
                      {"ceil_mode", static_cast<int64_t>(ceil_mode)}});
}

std::string ModuleEmitter::module(const nn::Module& m, const std::string& prefix, const std::string& x) {
  // Containers and blocks first: several derive from Sequential.
  if (const auto* block = as<models::InvertedResidualImpl>(m)) {
    const auto y = module(*block->conv, join(prefix, "conv"), x);
    return block->uses_residual() ? add(x, y) : y;
  }
  if (const auto* block = as<models::MBConvImpl>(m)) {
    const auto y = module(*block->block, join(prefix, "block"), x);  // stochastic depth is the identity at inference
    return block->uses_residual() ? add(y, x) : y;
  }
  if (const auto* sequence = as<nn::SequentialImpl>(m)) {
    std::string y = x;
    for (const auto& item : sequence->named_children()) y = module(*item.value(), join(prefix, item.key()), y);
    return y;
  }
  if (const auto* c = as<nn::Conv2dImpl>(m)) return conv(*c, prefix, x);
  if (const auto* norm = as<models::BatchNorm2dImpl>(m)) return batch_norm(*norm, prefix, x);
  if (const auto* l = as<nn::LinearImpl>(m)) return linear(*l, prefix, x);
  if (as<nn::ReLUImpl>(m) != nullptr) return relu(x);
  if (as<nn::ReLU6Impl>(m) != nullptr) {
    return graph_.node("Clip", {x, graph_.initializer("relu6_min", torch::tensor(0.0f)),
                                graph_.initializer("relu6_max", torch::tensor(6.0f))});
  }
  if (as<nn::SiLUImpl>(m) != nullptr) return graph_.node("Mul", {x, graph_.node("Sigmoid", {x})});
  if (as<nn::DropoutImpl>(m) != nullptr || as<models::StochasticDepthImpl>(m) != nullptr) return x;
  if (const auto* pool = as<nn::MaxPool2dImpl>(m)) {
    const auto& o = pool->options;
    require((*o.dilation())[0] == 1 && (*o.dilation())[1] == 1, "onnx export: {}: dilated max pooling", prefix);
    return max_pool(x, {(*o.kernel_size())[0], (*o.kernel_size())[1]}, {(*o.stride())[0], (*o.stride())[1]},
                    {(*o.padding())[0], (*o.padding())[1]}, o.ceil_mode());
  }
  if (const auto* pool = as<nn::AdaptiveAvgPool2dImpl>(m)) {
    const auto size = pool->options.output_size();
    require(size->at(0).value_or(0) == 1 && size->at(1).value_or(0) == 1,
            "onnx export: {}: only adaptive average pooling to 1x1 is exported", prefix);
    return graph_.node("GlobalAveragePool", {x});
  }
  if (const auto* se = as<models::SqueezeExcitationImpl>(m)) {
    auto scale = graph_.node("GlobalAveragePool", {x});
    scale = conv(*se->fc1, join(prefix, "fc1"), scale);
    scale = graph_.node("Mul", {scale, graph_.node("Sigmoid", {scale})});
    scale = graph_.node("Sigmoid", {conv(*se->fc2, join(prefix, "fc2"), scale)});
    return graph_.node("Mul", {x, scale});
  }
  if (const auto* block = as<models::BasicBlockImpl>(m)) {
    auto y = relu(batch_norm(*block->bn1, join(prefix, "bn1"), conv(*block->conv1, join(prefix, "conv1"), x)));
    y = batch_norm(*block->bn2, join(prefix, "bn2"), conv(*block->conv2, join(prefix, "conv2"), y));
    const auto shortcut = block->downsample ? module(*block->downsample, join(prefix, "downsample"), x) : x;
    return relu(add(y, shortcut));
  }
  if (const auto* block = as<models::BottleneckImpl>(m)) {
    auto y = relu(batch_norm(*block->bn1, join(prefix, "bn1"), conv(*block->conv1, join(prefix, "conv1"), x)));
    y = relu(batch_norm(*block->bn2, join(prefix, "bn2"), conv(*block->conv2, join(prefix, "conv2"), y)));
    y = batch_norm(*block->bn3, join(prefix, "bn3"), conv(*block->conv3, join(prefix, "conv3"), y));
    const auto shortcut = block->downsample ? module(*block->downsample, join(prefix, "downsample"), x) : x;
    return relu(add(y, shortcut));
  }
  if (const auto* resnet = as<models::ResNetImpl>(m)) {
    auto y = relu(batch_norm(*resnet->bn1, join(prefix, "bn1"), conv(*resnet->conv1, join(prefix, "conv1"), x)));
    y = max_pool(y, {3, 3}, {2, 2}, {1, 1});
    for (const char* layer : {"layer1", "layer2", "layer3", "layer4"}) y = module(child(m, layer), join(prefix, layer), y);
    if (!resnet->fc) return y;
    y = graph_.node("Flatten", {graph_.node("GlobalAveragePool", {y})}, {{"axis", int64_t{1}}});
    return linear(*resnet->fc, join(prefix, "fc"), y);
  }
  if (const auto* net = as<models::MobileNetV2Impl>(m)) {
    const auto y = module(*net->features, join(prefix, "features"), x);
    if (!net->classifier) return y;
    const auto pooled = graph_.node("Flatten", {graph_.node("GlobalAveragePool", {y})}, {{"axis", int64_t{1}}});
    return module(*net->classifier, join(prefix, "classifier"), pooled);
  }
  if (const auto* net = as<models::EfficientNetImpl>(m)) {
    const auto y = module(*net->features, join(prefix, "features"), x);
    if (!net->classifier) return y;
    const auto pooled = graph_.node("Flatten", {graph_.node("GlobalAveragePool", {y})}, {{"axis", int64_t{1}}});
    return module(*net->classifier, join(prefix, "classifier"), pooled);
  }
  // The recognizer's stages.
  if (as<ocr::FeatureExtractorImpl>(m) != nullptr) return module(child(m, "ConvNet"), join(prefix, "ConvNet"), x);
  if (const auto* bilstm = as<ocr::BidirectionalLstmImpl>(m)) {
    return linear(*bilstm->linear, join(prefix, "linear"), bidirectional_lstm(*bilstm->rnn, join(prefix, "rnn"), x));
  }
  if (const auto* grcl = as<ocr::GrclImpl>(m)) {
    const auto gate_input = conv(*grcl->wgf_u, join(prefix, "wgf_u"), x);
    const auto feed_input = conv(*grcl->wf_u, join(prefix, "wf_u"), x);
    auto h = relu(batch_norm(*grcl->BN_x_init, join(prefix, "BN_x_init"), feed_input));
    for (const auto i : c10::irange(grcl->GRCL->size())) {
      const auto& unit = *grcl->GRCL->ptr(i)->as<ocr::GrclUnitImpl>();
      const std::string at = join(prefix, fmt::format("GRCL.{}", i));
      // wgr_x and wr_x are the same convolutions at every step (their weights are stored once).
      const auto gate = graph_.node(
          "Sigmoid", {add(batch_norm(*unit.BN_gfu, join(at, "BN_gfu"), gate_input),
                          batch_norm(*unit.BN_grx, join(at, "BN_grx"), conv(*grcl->wgr_x, join(prefix, "wgr_x"), h)))});
      const auto recurrent = batch_norm(*unit.BN_rx, join(at, "BN_rx"), conv(*grcl->wr_x, join(prefix, "wr_x"), h));
      h = relu(add(batch_norm(*unit.BN_fu, join(at, "BN_fu"), feed_input),
                   batch_norm(*unit.BN_Gx, join(at, "BN_Gx"), graph_.node("Mul", {recurrent, gate}))));
    }
    return h;
  }
  if (as<ocr::OcrResNetImpl>(m) != nullptr) {  // its layers are private: reached by their registered names
    const auto conv_bn_relu = [&](const std::string& conv_name, const std::string& bn_name, const std::string& in) {
      const auto& c = *child(m, conv_name).as<nn::Conv2dImpl>();
      const auto& bn = *child(m, bn_name).as<models::BatchNorm2dImpl>();
      return relu(batch_norm(bn, join(prefix, bn_name), conv(c, join(prefix, conv_name), in)));
    };
    auto y = conv_bn_relu("conv0_1", "bn0_1", x);
    y = conv_bn_relu("conv0_2", "bn0_2", y);
    y = max_pool(y, {2, 2}, {2, 2}, {0, 0});
    y = conv_bn_relu("conv1", "bn1", module(child(m, "layer1"), join(prefix, "layer1"), y));
    y = max_pool(y, {2, 2}, {2, 2}, {0, 0});
    y = conv_bn_relu("conv2", "bn2", module(child(m, "layer2"), join(prefix, "layer2"), y));
    y = max_pool(y, {2, 2}, {2, 1}, {0, 1});
    y = conv_bn_relu("conv3", "bn3", module(child(m, "layer3"), join(prefix, "layer3"), y));
    y = module(child(m, "layer4"), join(prefix, "layer4"), y);
    y = conv_bn_relu("conv4_1", "bn4_1", y);
    return conv_bn_relu("conv4_2", "bn4_2", y);
  }
  throw Error(fmt::format("onnx export: {} ({}) has no ONNX emitter", prefix.empty() ? "the model" : prefix, m.name()));
}

}  // namespace cargovision::onnx_export
