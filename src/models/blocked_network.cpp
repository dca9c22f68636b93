#include "cargovision/models/blocked_network.h"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "cargovision/models/conv_batch_norm.h"
#include "cargovision/models/fast_kernels.h"
#include "cargovision/models/resnet.h"
#include "onednn_support.h"

namespace cargovision::models {
namespace {

// Three activation buffers are enough: a block reads its input, writes two intermediates, and its last
// convolution accumulates into the shortcut's buffer (the input itself, or the downsampled input written
// where the first intermediate was).
constexpr int kBuffers = 3;
constexpr int kCallerInput = -1;
using Step = BlockedNetwork::Step;

int free_buffer(std::initializer_list<int> busy) {
  for (int b = 0; b < kBuffers; ++b) {
    if (std::find(busy.begin(), busy.end(), b) == busy.end()) return b;
  }
  TORCH_CHECK(false, "BlockedNetwork: no free activation buffer");
}

Step convolution(const FastConv2d& conv, const BatchNorm2d& bn, int src, int dst, bool relu, bool add_to_dst) {
  Step step;
  step.conv = conv;
  step.bn = bn;
  step.src = src;
  step.dst = dst;
  step.relu = relu;
  step.add_to_dst = add_to_dst;
  return step;
}

}  // namespace

#if CARGOVISION_HAVE_ONEDNN
namespace {

using dnnl::memory;

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

struct PoolStep {
  memory::desc src, dst;
  dnnl::pooling_forward primitive;
};

// The network's convolutions and pools in the order of its steps.
struct NetworkPlan {
  std::vector<ConvStep> convolutions;
  std::vector<PoolStep> pools;
  onednn::Reorder output_out;
  std::vector<int64_t> output_shape;
  int64_t buffer_bytes = 0;
};

struct NetworkPlanKey {
  std::vector<int64_t> fields;
  bool operator==(const NetworkPlanKey& other) const { return fields == other.fields; }
};

struct NetworkPlanKeyHash {
  std::size_t operator()(const NetworkPlanKey& key) const { return onednn::hash_fields(key.fields); }
};

NetworkPlanKey plan_key(const std::vector<Step>& steps, const torch::Tensor& input) {
  NetworkPlanKey key;
  key.fields.assign(input.sizes().begin(), input.sizes().end());
  for (const Step& step : steps) {
    key.fields.insert(key.fields.end(), {step.kind, step.src, step.dst, step.relu, step.add_to_dst});
    if (step.kind == Step::kMaxPool) {
      key.fields.insert(key.fields.end(), std::begin(step.pool), std::end(step.pool));
      continue;
    }
    const auto& o = step.conv->options;
    const auto& padding = *c10::get<torch::ExpandingArray<2>>(o.padding());
    key.fields.insert(key.fields.end(), {o.in_channels(), o.out_channels(), (*o.kernel_size())[0],
                                         (*o.kernel_size())[1], (*o.stride())[0], (*o.stride())[1], padding[0],
                                         padding[1]});
  }
  return key;
}

using onednn::right_padding;
using onednn::window_count;

// oneDNN's reference implementations run where no optimised kernel takes a layout (a blocked activation whose
// channels do not fill its blocks: 8 channels in blocks of 16 ran 20x slower than LibTorch); the network then
// declines and its layers run one by one.
bool reference_kernel(const dnnl::primitive_desc_base& pd) {
  return std::string(pd.impl_info_str()).rfind("ref", 0) == 0;
}

ConvStep build_convolution(const Step& step, const memory::dims& src_dims, bool caller_input) {
  const auto& o = step.conv->options;
  const int64_t kernel_h = (*o.kernel_size())[0], kernel_w = (*o.kernel_size())[1];
  const int64_t stride_h = (*o.stride())[0], stride_w = (*o.stride())[1];
  const auto& padding = *c10::get<torch::ExpandingArray<2>>(o.padding());
  const int64_t out_h = window_count(src_dims[2], kernel_h, stride_h, padding[0]);
  const int64_t out_w = window_count(src_dims[3], kernel_w, stride_w, padding[1]);
  const memory::dims dst_dims{src_dims[0], o.out_channels(), out_h, out_w};
  const memory::dims weights{o.out_channels(), o.in_channels(), kernel_h, kernel_w};
  ConvStep built;
  built.src = caller_input ? onednn::plain(src_dims) : blocked(src_dims);
  built.dst = blocked(dst_dims);
  dnnl::post_ops post_ops;
  if (step.add_to_dst) post_ops.append_sum(1.0f);
  if (step.relu) post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  dnnl::primitive_attr attributes;
  attributes.set_post_ops(post_ops);
  // Winograd's inference kernels keep their weights transformed in a layout made for the batch size, so each
  // batch size would keep a copy (up to 4x the weights); as in FastConv2d, only small batches use them.
  const auto prop = winograd_shape(o) && src_dims[0] > kPackedInferenceMaxBatch ? dnnl::prop_kind::forward_training
                                                                                 : dnnl::prop_kind::forward_inference;
  const auto describe = [&](dnnl::algorithm algorithm) {
    return dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(
            prop, algorithm, built.src, onednn::any_layout(weights),
            onednn::plain({o.out_channels()}), built.dst, {stride_h, stride_w}, {padding[0], padding[1]},
            {right_padding(src_dims[2], kernel_h, stride_h, padding[0]),
             right_padding(src_dims[3], kernel_w, stride_w, padding[1])}),
        attributes, onednn::cpu_engine());
  };
  bool described = false;
  if (winograd_shape(o) && winograd_kernels_available()) {
    try {
      built.pd = describe(dnnl::algorithm::convolution_winograd);
      described = true;
    } catch (const dnnl::error&) {
    }
  }
  if (!described) built.pd = describe(dnnl::algorithm::convolution_direct);
  if (reference_kernel(built.pd)) throw dnnl::error(dnnl_unimplemented, "no fast kernel for this step");
  built.primitive = dnnl::convolution_forward(built.pd);
  built.weights_in = onednn::Reorder(onednn::plain(weights), built.pd.weights_desc());
  return built;
}

PoolStep build_pool(const Step& step, const memory::dims& src_dims) {
  const int64_t* p = step.pool;  // kernel h w, stride h w, padding h w
  const int64_t out_h = window_count(src_dims[2], p[0], p[2], p[4]);
  const int64_t out_w = window_count(src_dims[3], p[1], p[3], p[5]);
  PoolStep built;
  built.src = blocked(src_dims);
  built.dst = blocked({src_dims[0], src_dims[1], out_h, out_w});
  const dnnl::pooling_forward::primitive_desc pd(
      dnnl::pooling_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_max, built.src,
                                  built.dst, {p[2], p[3]}, {p[0], p[1]}, {p[4], p[5]},
                                  {right_padding(src_dims[2], p[0], p[2], p[4]),
                                   right_padding(src_dims[3], p[1], p[3], p[5])}),
      onednn::cpu_engine());
  if (reference_kernel(pd)) throw dnnl::error(dnnl_unimplemented, "no fast kernel for this step");
  built.primitive = dnnl::pooling_forward(pd);
  return built;
}

// nullptr where a feature map gets too small for a step; a step oneDNN cannot build, or would run on its
// reference kernel, throws dnnl::error (the cache remembers both). 3x3 stride-1 convolutions run on oneDNN's Winograd where the CPU has it, direct elsewhere.
std::unique_ptr<NetworkPlan> build_network_plan(const std::vector<Step>& steps, const torch::Tensor& input) {
  auto plan = std::make_unique<NetworkPlan>();
  std::array<memory::dims, kBuffers> held;
  const memory::dims input_dims(input.sizes().begin(), input.sizes().end());
  for (const Step& step : steps) {
    const bool caller_input = step.src == kCallerInput;
    const memory::dims& src_dims = caller_input ? input_dims : held[static_cast<std::size_t>(step.src)];
    if (src_dims.size() != 4) return nullptr;
    memory::desc dst;
    if (step.kind == Step::kMaxPool) {
      if (caller_input || window_count(src_dims[2], step.pool[0], step.pool[2], step.pool[4]) < 1 ||
          window_count(src_dims[3], step.pool[1], step.pool[3], step.pool[5]) < 1) {
        return nullptr;
      }
      plan->pools.push_back(build_pool(step, src_dims));
      dst = plan->pools.back().dst;
    } else {
      const auto& o = step.conv->options;
      const auto& padding = *c10::get<torch::ExpandingArray<2>>(o.padding());
      const int64_t out_h = window_count(src_dims[2], (*o.kernel_size())[0], (*o.stride())[0], padding[0]);
      const int64_t out_w = window_count(src_dims[3], (*o.kernel_size())[1], (*o.stride())[1], padding[1]);
      if (src_dims[1] != o.in_channels() || out_h < 1 || out_w < 1) return nullptr;
      plan->convolutions.push_back(build_convolution(step, src_dims, caller_input));
      dst = plan->convolutions.back().dst;
    }
    plan->buffer_bytes = std::max(plan->buffer_bytes, static_cast<int64_t>(dst.get_size()));
    held[static_cast<std::size_t>(step.dst)] = dst.dims();
  }
  const memory::dims& output = held[static_cast<std::size_t>(steps.back().dst)];
  plan->output_shape.assign(output.begin(), output.end());
  plan->output_out = onednn::Reorder(blocked(output), onednn::plain(output));
  return plan;
}

const NetworkPlan* find_network_plan(const std::vector<Step>& steps, const torch::Tensor& input) {
  static onednn::PlanCache<NetworkPlanKey, NetworkPlan, NetworkPlanKeyHash> plans;
  return plans.find(plan_key(steps, input), [&](const NetworkPlanKey&) { return build_network_plan(steps, input); });
}

}  // namespace
#endif  // CARGOVISION_HAVE_ONEDNN

BlockedNetwork& BlockedNetwork::conv_batch_norm_relu(const FastConv2d& conv, const BatchNorm2d& bn) {
  const int dst = free_buffer({current_});
  steps_.push_back(convolution(conv, bn, current_, dst, true, false));
  current_ = dst;
  return *this;
}

BlockedNetwork& BlockedNetwork::max_pool(torch::ExpandingArray<2> kernel, torch::ExpandingArray<2> stride,
                                         torch::ExpandingArray<2> padding) {
  Step step;
  step.kind = Step::kMaxPool;
  step.src = current_;
  step.dst = free_buffer({current_});
  step.relu = false;
  const int64_t values[6] = {(*kernel)[0], (*kernel)[1], (*stride)[0], (*stride)[1], (*padding)[0], (*padding)[1]};
  std::copy(std::begin(values), std::end(values), std::begin(step.pool));
  steps_.push_back(step);
  current_ = step.dst;
  return *this;
}

BlockedNetwork& BlockedNetwork::residual_layer(const torch::nn::Sequential& layer) {
  // Where a block's last convolution adds its result: its input itself, or the input's downsampled copy,
  // written to the buffer neither the input nor `busy` holds.
  const auto shortcut = [this](const torch::nn::Sequential& downsample, int x, int busy) {
    if (!downsample) return x;
    const int out = free_buffer({x, busy});
    steps_.push_back(convolution(FastConv2d(downsample->ptr<FastConv2dImpl>(0)),
                                 BatchNorm2d(downsample->ptr<BatchNorm2dImpl>(1)), x, out, false, false));
    return out;
  };
  for (const auto& child : layer->children()) {
    const int x = current_;
    if (auto* block = dynamic_cast<BottleneckImpl*>(child.get())) {
      const int a = free_buffer({x});
      steps_.push_back(convolution(block->conv1, block->bn1, x, a, true, false));
      const int b = free_buffer({x, a});
      steps_.push_back(convolution(block->conv2, block->bn2, a, b, true, false));
      current_ = shortcut(block->downsample, x, b);
      steps_.push_back(convolution(block->conv3, block->bn3, b, current_, true, true));
    } else if (auto* basic = dynamic_cast<BasicBlockImpl*>(child.get())) {
      const int a = free_buffer({x});
      steps_.push_back(convolution(basic->conv1, basic->bn1, x, a, true, false));
      current_ = shortcut(basic->downsample, x, a);
      steps_.push_back(convolution(basic->conv2, basic->bn2, a, current_, true, true));
    } else {
      supported_ = false;
    }
  }
  return *this;
}

BlockedNetwork& BlockedNetwork::only_with_onednn_winograd() {
  only_with_onednn_winograd_ = true;
  return *this;
}

bool BlockedNetwork::may_run(const torch::Tensor& input) {
#if CARGOVISION_HAVE_ONEDNN
  return fast_kernels_enabled() && packed_weights_scope_open() && !torch::GradMode::is_enabled() &&
         input.dim() == 4 && input.device().is_cpu() && input.layout() == torch::kStrided &&
         input.scalar_type() == torch::kFloat && input.size(0) > 0 && fast_kernels_available() &&
         blocked_tag() != dnnl::memory::format_tag::undef;
#else
  (void)input;
  return false;
#endif
}

torch::Tensor BlockedNetwork::forward(const torch::Tensor& input) const {
#if CARGOVISION_HAVE_ONEDNN
  if (!supported_ || steps_.empty() || steps_.front().kind != Step::kConvolution || !may_run(input)) return {};
  // Checked before folding: on a CPU without oneDNN's Winograd (the recognizer on AVX2) every call ends here.
  if (only_with_onednn_winograd_ && !winograd_kernels_available()) return {};
  std::vector<FastConv2d> folded;
  folded.reserve(steps_.size());
  for (const Step& step : steps_) {
    if (step.kind != Step::kConvolution) continue;
    if (!plain_convolution(step.conv->options)) return {};
    FastConv2d conv = step.conv;
    BatchNorm2d bn = step.bn;
    folded.push_back(folded_conv_batch_norm(conv, bn, input));
    if (folded.back().is_empty()) return {};
  }
  const NetworkPlan* plan = find_network_plan(steps_, input);
  if (plan == nullptr) return {};
  RECORD_FUNCTION("cargovision::blocked_network", std::vector<c10::IValue>({input}));  // named in profiles
  const auto contiguous_input = input.contiguous();
  std::array<torch::Tensor, kBuffers> buffers;
  for (auto& buffer : buffers) buffer = torch::empty({plan->buffer_bytes}, torch::kUInt8);
  const auto buffer = [&](int index) -> const torch::Tensor& {
    return index == kCallerInput ? contiguous_input : buffers[static_cast<std::size_t>(index)];
  };
  auto& stream = onednn::cpu_stream();
  std::size_t next_convolution = 0, next_pool = 0;
  for (const Step& step : steps_) {
    if (step.kind == Step::kMaxPool) {
      const PoolStep& pool = plan->pools[next_pool++];
      pool.primitive.execute(stream, {{DNNL_ARG_SRC, onednn::view(pool.src, buffer(step.src))},
                                      {DNNL_ARG_DST, onednn::view(pool.dst, buffer(step.dst))}});
      continue;
    }
    const ConvStep& convolution = plan->convolutions[next_convolution];
    const FastConv2d& conv = folded[next_convolution++];
    const auto weights = onednn::packed({conv->weight}, convolution.pd.weights_desc(),
                                        [&] { return convolution.weights_in(conv->weight); });
    convolution.primitive.execute(stream, {{DNNL_ARG_SRC, onednn::view(convolution.src, buffer(step.src))},
                                           {DNNL_ARG_WEIGHTS, onednn::view(convolution.pd.weights_desc(), weights)},
                                           {DNNL_ARG_BIAS, onednn::view(convolution.pd.bias_desc(), conv->bias)},
                                           {DNNL_ARG_DST, onednn::view(convolution.dst, buffer(step.dst))}});
  }
  auto output = torch::empty(plan->output_shape, input.options());
  plan->output_out.run(buffer(steps_.back().dst).data_ptr(), output.data_ptr());
  return output;
#else
  (void)input;
  return {};
#endif
}

}  // namespace cargovision::models
