#include "cargovision/models/blocked_resnet.h"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <memory>
#include <optional>
#include <vector>

#include "cargovision/models/conv_batch_norm.h"
#include "cargovision/models/fast_kernels.h"
#include "cargovision/models/resnet.h"
#include "onednn_support.h"

namespace cargovision::models {

#if CARGOVISION_HAVE_ONEDNN
namespace {

using dnnl::memory;

// Three activation buffers are enough: a block reads its input, writes two intermediates, and its last
// convolution accumulates into the shortcut's buffer (the input itself, or the downsampled input written
// where the first intermediate was).
constexpr int kBuffers = 3;
constexpr int kCallerInput = -1;  // the stem reads the caller's plain NCHW tensor

// One convolution of the network in execution order, with the buffers it reads and writes.
struct ConvOp {
  FastConv2d conv;
  BatchNorm2d bn;
  int src = 0, dst = 0;
  bool relu = true;
  bool add_to_dst = false;  // dst holds the shortcut: the residual addition runs as a sum post-op
};

struct NetworkOps {
  std::vector<ConvOp> convs;  // convs[0] is the stem, followed by the 3x3 stride-2 max pool into pool_dst
  int pool_dst = 1;
  int output = 1;
};

int free_buffer(std::initializer_list<int> busy) {
  for (int b = 0; b < kBuffers; ++b) {
    if (std::find(busy.begin(), busy.end(), b) == busy.end()) return b;
  }
  TORCH_CHECK(false, "blocked_resnet: no free activation buffer");
}

std::optional<NetworkOps> network_ops(ResNetImpl& net) {
  NetworkOps ops;
  ops.convs.push_back({net.conv1, net.bn1, kCallerInput, 0, true, false});
  int x = ops.pool_dst;
  auto downsample_of = [](const torch::nn::Sequential& downsample) {
    return std::make_pair(FastConv2d(downsample->ptr<FastConv2dImpl>(0)), BatchNorm2d(downsample->ptr<BatchNorm2dImpl>(1)));
  };
  for (const auto* layer : {&net.layer1, &net.layer2, &net.layer3, &net.layer4}) {
    for (const auto& child : (*layer)->children()) {
      int out = x;
      if (auto* block = dynamic_cast<BottleneckImpl*>(child.get())) {
        const int a = free_buffer({x});
        ops.convs.push_back({block->conv1, block->bn1, x, a, true, false});
        const int b = free_buffer({x, a});
        ops.convs.push_back({block->conv2, block->bn2, a, b, true, false});
        if (block->downsample) {
          out = free_buffer({x, b});
          const auto [conv, bn] = downsample_of(block->downsample);
          ops.convs.push_back({conv, bn, x, out, false, false});
        }
        ops.convs.push_back({block->conv3, block->bn3, b, out, true, true});
      } else if (auto* basic = dynamic_cast<BasicBlockImpl*>(child.get())) {
        const int a = free_buffer({x});
        ops.convs.push_back({basic->conv1, basic->bn1, x, a, true, false});
        if (basic->downsample) {
          out = free_buffer({x, a});
          const auto [conv, bn] = downsample_of(basic->downsample);
          ops.convs.push_back({conv, bn, x, out, false, false});
        }
        ops.convs.push_back({basic->conv2, basic->bn2, a, out, true, true});
      } else {
        return std::nullopt;
      }
      x = out;
    }
  }
  ops.output = x;
  return ops;
}

bool foldable_shape(const torch::nn::detail::ConvNdOptions<2>& o) {
  return c10::get_if<torch::ExpandingArray<2>>(&o.padding()) != nullptr && (*o.dilation())[0] == 1 &&
         (*o.dilation())[1] == 1 && o.groups() == 1 && c10::get_if<torch::enumtype::kZeros>(&o.padding_mode()) != nullptr;
}

// The blocked layout oneDNN's direct kernels work in on this CPU (16 channels per block with AVX-512, 8 with
// AVX2 and SSE4.1); undef where it picks neither.
memory::format_tag blocked_tag() {
  static const memory::format_tag tag = [] {
    const memory::dims activation{1, 64, 8, 8}, weights{64, 64, 1, 1};
    try {
      const dnnl::convolution_forward::primitive_desc pd(
          dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                          onednn::any_layout(activation), onednn::any_layout(weights), memory::desc(),
                                          onednn::any_layout(activation), {1, 1}, {0, 0}, {0, 0}),
          onednn::cpu_engine());
      for (const auto candidate : {memory::format_tag::nChw16c, memory::format_tag::nChw8c}) {
        if (pd.src_desc() == memory::desc(activation, memory::data_type::f32, candidate)) return candidate;
      }
    } catch (const dnnl::error&) {
    }
    return memory::format_tag::undef;
  }();
  return tag;
}

memory::desc blocked(const memory::dims& dims) { return {dims, memory::data_type::f32, blocked_tag()}; }

struct ConvStep {
  memory::desc src, dst;
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward primitive;
  onednn::Reorder weights_in;
};

struct ResNetPlan {
  std::vector<ConvStep> steps;
  memory::desc pool_src, pool_dst;
  dnnl::pooling_forward pool;
  onednn::Reorder output_out;
  std::vector<int64_t> output_shape;
  int64_t buffer_bytes = 0;
};

struct ResNetPlanKey {
  std::vector<int64_t> fields;
  bool operator==(const ResNetPlanKey& other) const { return fields == other.fields; }
};

struct ResNetPlanKeyHash {
  std::size_t operator()(const ResNetPlanKey& key) const { return onednn::hash_fields(key.fields); }
};

ResNetPlanKey plan_key(const NetworkOps& ops, const torch::Tensor& input) {
  ResNetPlanKey key;
  for (const int64_t size : input.sizes()) key.fields.push_back(size);
  for (const ConvOp& op : ops.convs) {
    const auto& o = op.conv->options;
    const auto& padding = *c10::get<torch::ExpandingArray<2>>(o.padding());
    key.fields.insert(key.fields.end(), {o.in_channels(), o.out_channels(), (*o.kernel_size())[0],
                                         (*o.kernel_size())[1], (*o.stride())[0], (*o.stride())[1], padding[0],
                                         padding[1], op.src, op.dst, op.relu, op.add_to_dst});
  }
  return key;
}

int64_t convolved_size(int64_t size, int64_t kernel, int64_t stride, int64_t padding) {
  return (size + 2 * padding - kernel) / stride + 1;
}

// nullptr where a feature map gets too small for a kernel; a step oneDNN cannot build throws dnnl::error (the
// cache remembers both). 3x3 stride-1 convolutions run on oneDNN's Winograd where the CPU has it, direct
// elsewhere: on AVX2 the direct kernels on blocked data beat the layer-by-layer path's own Winograd even at
// batch 32, where that pays layer by layer (ResNet152, oneDNN capped at AVX2: 130 against 185 ms per image).
std::unique_ptr<ResNetPlan> build_resnet_plan(const NetworkOps& ops, const torch::Tensor& input) {
  auto plan = std::make_unique<ResNetPlan>();
  std::array<memory::dims, kBuffers> held;
  const memory::dims input_dims(input.sizes().begin(), input.sizes().end());
  const auto note_size = [&](const memory::desc& desc) {
    plan->buffer_bytes = std::max(plan->buffer_bytes, static_cast<int64_t>(desc.get_size()));
  };
  for (std::size_t i = 0; i < ops.convs.size(); ++i) {
    const ConvOp& op = ops.convs[i];
    const auto& o = op.conv->options;
    const memory::dims& src_dims = op.src == kCallerInput ? input_dims : held[static_cast<std::size_t>(op.src)];
    const int64_t kernel_h = (*o.kernel_size())[0], kernel_w = (*o.kernel_size())[1];
    const int64_t stride_h = (*o.stride())[0], stride_w = (*o.stride())[1];
    const auto& padding = *c10::get<torch::ExpandingArray<2>>(o.padding());
    const int64_t out_h = convolved_size(src_dims[2], kernel_h, stride_h, padding[0]);
    const int64_t out_w = convolved_size(src_dims[3], kernel_w, stride_w, padding[1]);
    if (src_dims.size() != 4 || src_dims[1] != o.in_channels() || out_h < 1 || out_w < 1) return nullptr;
    const bool three_by_three = kernel_h == 3 && kernel_w == 3 && stride_h == 1 && stride_w == 1 && padding[0] <= 1 &&
                                padding[1] <= 1 && o.in_channels() >= 16 && o.out_channels() >= 16;
    const memory::dims dst_dims{src_dims[0], o.out_channels(), out_h, out_w};
    const memory::dims weights{o.out_channels(), o.in_channels(), kernel_h, kernel_w};
    const memory::dims padding_right{(out_h - 1) * stride_h + kernel_h - src_dims[2] - padding[0],
                                     (out_w - 1) * stride_w + kernel_w - src_dims[3] - padding[1]};
    ConvStep step;
    step.src = op.src == kCallerInput ? onednn::plain(src_dims) : blocked(src_dims);
    step.dst = blocked(dst_dims);
    dnnl::post_ops post_ops;
    if (op.add_to_dst) post_ops.append_sum(1.0f);
    if (op.relu) post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    dnnl::primitive_attr attributes;
    attributes.set_post_ops(post_ops);
    const auto describe = [&](dnnl::algorithm algorithm) {
      return dnnl::convolution_forward::primitive_desc(
          dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, algorithm, step.src,
                                          onednn::any_layout(weights), onednn::plain({o.out_channels()}), step.dst,
                                          {stride_h, stride_w}, {padding[0], padding[1]}, padding_right),
          attributes, onednn::cpu_engine());
    };
    bool described = false;
    if (three_by_three && winograd_kernels_available()) {
      try {
        step.pd = describe(dnnl::algorithm::convolution_winograd);
        described = true;
      } catch (const dnnl::error&) {
      }
    }
    if (!described) step.pd = describe(dnnl::algorithm::convolution_direct);
    step.primitive = dnnl::convolution_forward(step.pd);
    step.weights_in = onednn::Reorder(onednn::plain(weights), step.pd.weights_desc());
    note_size(step.dst);
    held[static_cast<std::size_t>(op.dst)] = dst_dims;
    plan->steps.push_back(std::move(step));
    if (i == 0) {  // the stem's 3x3 stride-2 max pool (padding 1, which max pooling never picks)
      const memory::dims& pooled_from = dst_dims;
      const int64_t pool_h = convolved_size(pooled_from[2], 3, 2, 1), pool_w = convolved_size(pooled_from[3], 3, 2, 1);
      const memory::dims pooled{pooled_from[0], pooled_from[1], pool_h, pool_w};
      plan->pool_src = blocked(pooled_from);
      plan->pool_dst = blocked(pooled);
      const dnnl::pooling_forward::primitive_desc pool_pd(
          dnnl::pooling_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_max, plan->pool_src,
                                      plan->pool_dst, {2, 2}, {3, 3}, {1, 1},
                                      {(pool_h - 1) * 2 + 3 - pooled_from[2] - 1, (pool_w - 1) * 2 + 3 - pooled_from[3] - 1}),
          onednn::cpu_engine());
      plan->pool = dnnl::pooling_forward(pool_pd);
      note_size(plan->pool_dst);
      held[static_cast<std::size_t>(ops.pool_dst)] = pooled;
    }
  }
  const memory::dims& output = held[static_cast<std::size_t>(ops.output)];
  plan->output_shape.assign(output.begin(), output.end());
  plan->output_out = onednn::Reorder(blocked(output), onednn::plain(output));
  return plan;
}

const ResNetPlan* find_resnet_plan(const NetworkOps& ops, const torch::Tensor& input) {
  static onednn::PlanCache<ResNetPlanKey, ResNetPlan, ResNetPlanKeyHash> plans;
  return plans.find(plan_key(ops, input), [&](const ResNetPlanKey&) { return build_resnet_plan(ops, input); });
}

}  // namespace
#endif  // CARGOVISION_HAVE_ONEDNN

torch::Tensor blocked_resnet_features(ResNetImpl& resnet, const torch::Tensor& input) {
#if CARGOVISION_HAVE_ONEDNN
  if (!fast_kernels_enabled() || !packed_weights_scope_open() || resnet.is_training() ||
      torch::GradMode::is_enabled() || input.dim() != 4 || !input.device().is_cpu() ||
      input.layout() != torch::kStrided || input.scalar_type() != torch::kFloat || input.size(0) == 0 ||
      !fast_kernels_available() || blocked_tag() == dnnl::memory::format_tag::undef) {
    return {};
  }
  auto ops = network_ops(resnet);
  if (!ops) return {};
  std::vector<FastConv2d> folded;
  folded.reserve(ops->convs.size());
  for (ConvOp& op : ops->convs) {
    if (!foldable_shape(op.conv->options)) return {};
    folded.push_back(folded_conv_batch_norm(op.conv, op.bn, input));
    if (folded.back().is_empty()) return {};
  }
  const ResNetPlan* plan = find_resnet_plan(*ops, input);
  if (plan == nullptr) return {};
  RECORD_FUNCTION("cargovision::blocked_resnet", std::vector<c10::IValue>({input}));  // named in profiles
  const auto contiguous_input = input.contiguous();
  std::array<torch::Tensor, kBuffers> buffers;
  for (auto& buffer : buffers) buffer = torch::empty({plan->buffer_bytes}, torch::kUInt8);
  auto& stream = onednn::cpu_stream();
  for (std::size_t i = 0; i < plan->steps.size(); ++i) {
    const ConvStep& step = plan->steps[i];
    const ConvOp& op = ops->convs[i];
    const FastConv2d& conv = folded[i];
    const auto weights = onednn::packed({conv->weight}, step.pd.weights_desc(), [&] { return step.weights_in(conv->weight); });
    const auto& src = op.src == kCallerInput ? contiguous_input : buffers[static_cast<std::size_t>(op.src)];
    step.primitive.execute(stream, {{DNNL_ARG_SRC, onednn::view(step.src, src)},
                                    {DNNL_ARG_WEIGHTS, onednn::view(step.pd.weights_desc(), weights)},
                                    {DNNL_ARG_BIAS, onednn::view(step.pd.bias_desc(), conv->bias)},
                                    {DNNL_ARG_DST, onednn::view(step.dst, buffers[static_cast<std::size_t>(op.dst)])}});
    if (i == 0) {
      plan->pool.execute(stream, {{DNNL_ARG_SRC, onednn::view(plan->pool_src, buffers[static_cast<std::size_t>(op.dst)])},
                                  {DNNL_ARG_DST, onednn::view(plan->pool_dst, buffers[static_cast<std::size_t>(ops->pool_dst)])}});
    }
  }
  auto output = torch::empty(plan->output_shape, input.options());
  plan->output_out.run(buffers[static_cast<std::size_t>(ops->output)].data_ptr(), output.data_ptr());
  return output;
#else
  (void)resnet;
  (void)input;
  return {};
#endif
}

}  // namespace cargovision::models
