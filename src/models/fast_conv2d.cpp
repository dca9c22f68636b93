#include "cargovision/models/fast_conv2d.h"

#include <array>
#include <unordered_map>

#include "cargovision/models/fast_kernels.h"
#include "cargovision/models/winograd.h"
#include "cargovision/models/winograd_f2.h"
#include "onednn_support.h"

namespace cargovision::models {
namespace {

#if CARGOVISION_HAVE_ONEDNN
using dnnl::memory;
using onednn::any_layout;
using onednn::buffer_for;
using onednn::cpu_engine;
using onednn::cpu_stream;
using onednn::plain;
using onednn::Reorder;
using onednn::view;

struct PlanKey {
  int64_t batch, in_channels, height, width, out_channels, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
  bool bias;
  // kPackedDirect: oneDNN's direct convolution with packed weights, for the shapes Winograd does not take.
  enum Pass { kTraining, kInference, kPackedInference, kPackedDirect } pass;

  std::array<int64_t, 13> fields() const {
    return {batch, in_channels, height, width, out_channels, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w,
            static_cast<int64_t>(bias), static_cast<int64_t>(pass)};
  }
  bool operator==(const PlanKey& o) const { return fields() == o.fields(); }
};

struct PlanKeyHash {
  std::size_t operator()(const PlanKey& k) const { return onednn::hash_fields(k.fields()); }
};

// Everything oneDNN needs for one convolution shape, built once.
struct Plan {
  memory::desc src_plain, weights_plain, dst_plain;
  std::vector<int64_t> dst_shape;
  dnnl::convolution_forward::primitive_desc forward_pd;
  dnnl::convolution_forward forward;
  Reorder src_in, weights_in, dst_out;
  // Training only.
  dnnl::convolution_backward_data::primitive_desc backward_data_pd;
  dnnl::convolution_backward_data backward_data;
  dnnl::convolution_backward_weights::primitive_desc backward_weights_pd;
  dnnl::convolution_backward_weights backward_weights;
  Reorder grad_for_data, grad_for_weights, grad_input_out, grad_weights_out, weights_for_data, src_for_weights;
  bool weights_for_data_needed = false, src_for_weights_needed = false;
};

std::unique_ptr<Plan> build_plan(const PlanKey& key) {
  // LibTorch's output size floors; oneDNN wants the right padding that makes it exact.
  const int64_t out_h = onednn::window_count(key.height, key.kernel_h, key.stride_h, key.pad_h);
  const int64_t out_w = onednn::window_count(key.width, key.kernel_w, key.stride_w, key.pad_w);
  if (key.height + 2 * key.pad_h < key.kernel_h || key.width + 2 * key.pad_w < key.kernel_w) return nullptr;
  const memory::dims src{key.batch, key.in_channels, key.height, key.width};
  const memory::dims weights{key.out_channels, key.in_channels, key.kernel_h, key.kernel_w};
  const memory::dims dst{key.batch, key.out_channels, out_h, out_w};
  const memory::dims strides{key.stride_h, key.stride_w}, padding{key.pad_h, key.pad_w};
  const memory::dims padding_right{onednn::right_padding(key.height, key.kernel_h, key.stride_h, key.pad_h),
                                   onednn::right_padding(key.width, key.kernel_w, key.stride_w, key.pad_w)};
  if (padding_right[0] < 0 || padding_right[1] < 0) return nullptr;
  const auto bias = key.bias ? plain({key.out_channels}) : memory::desc();
  const auto algorithm = key.pass == PlanKey::kPackedDirect ? dnnl::algorithm::convolution_direct
                                                            : dnnl::algorithm::convolution_winograd;

  auto plan = std::make_unique<Plan>();
  plan->src_plain = plain(src);
  plan->weights_plain = plain(weights);
  plan->dst_plain = plain(dst);
  plan->dst_shape = dst;
  const bool packed = key.pass == PlanKey::kPackedInference || key.pass == PlanKey::kPackedDirect;
  // Asked for inference, oneDNN 2.7 runs 1x1 convolutions as brgemm over channels-last activations, and the
  // transposes to and from LibTorch's layout cost more than the kernel saves (ResNet152 at batch 1 on AVX-512:
  // 167 ms against LibTorch's 150). Asked for training it picks the 1x1 kernel over 16- or 8-channel blocks that
  // LibTorch's own call runs, and the weights are still reordered only once (116-140 ms).
  const bool pointwise = key.kernel_h == 1 && key.kernel_w == 1;
  const auto prop = packed && !pointwise ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
  plan->forward_pd = dnnl::convolution_forward::primitive_desc(
      dnnl::convolution_forward::desc(prop, algorithm, any_layout(src), any_layout(weights), bias, any_layout(dst),
                                      strides, padding, padding_right),
      cpu_engine());
  plan->forward = dnnl::convolution_forward(plan->forward_pd);
  plan->src_in = Reorder(plan->src_plain, plan->forward_pd.src_desc());
  plan->weights_in = Reorder(plan->weights_plain, plan->forward_pd.weights_desc());
  plan->dst_out = Reorder(plan->forward_pd.dst_desc(), plan->dst_plain);
  if (key.pass != PlanKey::kTraining) return plan;

  plan->backward_data_pd = dnnl::convolution_backward_data::primitive_desc(
      dnnl::convolution_backward_data::desc(algorithm, any_layout(src), any_layout(weights), any_layout(dst), strides,
                                            padding, padding_right),
      cpu_engine(), plan->forward_pd);
  plan->backward_data = dnnl::convolution_backward_data(plan->backward_data_pd);
  plan->backward_weights_pd = dnnl::convolution_backward_weights::primitive_desc(
      dnnl::convolution_backward_weights::desc(algorithm, any_layout(src), any_layout(weights), bias,
                                               any_layout(dst), strides, padding, padding_right),
      cpu_engine(), plan->forward_pd);
  plan->backward_weights = dnnl::convolution_backward_weights(plan->backward_weights_pd);
  plan->grad_for_data = Reorder(plan->dst_plain, plan->backward_data_pd.diff_dst_desc());
  plan->grad_for_weights = Reorder(plan->dst_plain, plan->backward_weights_pd.diff_dst_desc());
  plan->grad_input_out = Reorder(plan->backward_data_pd.diff_src_desc(), plan->src_plain);
  plan->grad_weights_out = Reorder(plan->backward_weights_pd.diff_weights_desc(), plan->weights_plain);
  plan->weights_for_data_needed = plan->backward_data_pd.weights_desc() != plan->forward_pd.weights_desc();
  if (plan->weights_for_data_needed) {
    plan->weights_for_data = Reorder(plan->weights_plain, plan->backward_data_pd.weights_desc());
  }
  plan->src_for_weights_needed = plan->backward_weights_pd.src_desc() != plan->forward_pd.src_desc();
  if (plan->src_for_weights_needed) {
    plan->src_for_weights = Reorder(plan->forward_pd.src_desc(), plan->backward_weights_pd.src_desc());
  }
  return plan;
}

// nullptr when oneDNN has no kernel for this shape on this CPU.
const Plan* find_plan(const PlanKey& key) {
  static onednn::PlanCache<PlanKey, Plan, PlanKeyHash> plans;
  return plans.find(key, build_plan);
}

torch::Tensor packed_weights(const Plan& plan, const torch::Tensor& weight) {
  return onednn::packed({weight}, plan.forward_pd.weights_desc(), [&] { return plan.weights_in(weight); });
}

struct ForwardResult {
  torch::Tensor output, src, weights;  // src and weights in the primitive's layouts
};

ForwardResult run_forward(const Plan& plan, const torch::Tensor& input, const torch::Tensor& weights,
                          const c10::optional<torch::Tensor>& bias) {
  ForwardResult result;
  result.src = plan.src_in(input);
  result.weights = weights;
  auto dst = buffer_for(plan.forward_pd.dst_desc());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, view(plan.forward_pd.src_desc(), result.src)},
                                       {DNNL_ARG_WEIGHTS, view(plan.forward_pd.weights_desc(), weights)},
                                       {DNNL_ARG_DST, view(plan.forward_pd.dst_desc(), dst)}};
  if (bias) args.emplace(DNNL_ARG_BIAS, view(plan.forward_pd.bias_desc(), *bias));
  plan.forward.execute(cpu_stream(), args);
  result.output = torch::empty(plan.dst_shape, input.options());
  plan.dst_out.run(dst.data_ptr(), result.output.data_ptr());
  return result;
}

class WinogradConvolution : public torch::autograd::Function<WinogradConvolution> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& weight, const c10::optional<torch::Tensor>& bias,
                               const Plan* plan) {
    auto result = run_forward(*plan, input, plan->weights_in(weight), bias);
    ctx->save_for_backward({weight});
    ctx->saved_data["src"] = result.src;
    ctx->saved_data["weights"] = result.weights;
    ctx->saved_data["plan"] = static_cast<int64_t>(reinterpret_cast<std::uintptr_t>(plan));
    ctx->saved_data["bias"] = bias.has_value();
    return result.output;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto& plan = *reinterpret_cast<const Plan*>(static_cast<std::uintptr_t>(ctx->saved_data["plan"].toInt()));
    const bool has_bias = ctx->saved_data["bias"].toBool();
    const auto grad_output = grads[0].contiguous();
    torch::Tensor grad_input, grad_weight, grad_bias;
    if (ctx->needs_input_grad(0)) {
      const auto weights = plan.weights_for_data_needed ? plan.weights_for_data(ctx->get_saved_variables()[0])
                                                        : ctx->saved_data["weights"].toTensor();
      const auto diff_dst = plan.grad_for_data(grad_output);
      auto diff_src = buffer_for(plan.backward_data_pd.diff_src_desc());
      plan.backward_data.execute(cpu_stream(),
                                 {{DNNL_ARG_DIFF_DST, view(plan.backward_data_pd.diff_dst_desc(), diff_dst)},
                                  {DNNL_ARG_WEIGHTS, view(plan.backward_data_pd.weights_desc(), weights)},
                                  {DNNL_ARG_DIFF_SRC, view(plan.backward_data_pd.diff_src_desc(), diff_src)}});
      grad_input = torch::empty(plan.src_plain.dims(), grad_output.options());
      plan.grad_input_out.run(diff_src.data_ptr(), grad_input.data_ptr());
    }
    if (ctx->needs_input_grad(1) || (has_bias && ctx->needs_input_grad(2))) {
      auto src = ctx->saved_data["src"].toTensor();
      if (plan.src_for_weights_needed) src = plan.src_for_weights(src);
      const auto diff_dst = plan.grad_for_weights(grad_output);
      auto diff_weights = buffer_for(plan.backward_weights_pd.diff_weights_desc());
      std::unordered_map<int, memory> args{
          {DNNL_ARG_SRC, view(plan.backward_weights_pd.src_desc(), src)},
          {DNNL_ARG_DIFF_DST, view(plan.backward_weights_pd.diff_dst_desc(), diff_dst)},
          {DNNL_ARG_DIFF_WEIGHTS, view(plan.backward_weights_pd.diff_weights_desc(), diff_weights)}};
      if (has_bias) {
        grad_bias = torch::empty({plan.dst_shape[1]}, grad_output.options());
        args.emplace(DNNL_ARG_DIFF_BIAS, view(plan.backward_weights_pd.diff_bias_desc(), grad_bias));
      }
      plan.backward_weights.execute(cpu_stream(), args);
      grad_weight = torch::empty(plan.weights_plain.dims(), grad_output.options());
      plan.grad_weights_out.run(diff_weights.data_ptr(), grad_weight.data_ptr());
    }
    return {grad_input, grad_weight, grad_bias, torch::Tensor()};
  }
};

// Whether oneDNN builds a kernel of this kind for the smallest eligible shape on this CPU.
bool cpu_builds(PlanKey::Pass pass) {
  const PlanKey probe{1, 16, 4, 4, 16, 3, 3, 1, 1, 1, 1, false, pass};
  try {
    return build_plan(probe) != nullptr;
  } catch (const dnnl::error&) {
    return false;
  }
}
#endif  // CARGOVISION_HAVE_ONEDNN

}  // namespace

bool plain_convolution(const torch::nn::detail::ConvNdOptions<2>& o) {
  return c10::get_if<torch::ExpandingArray<2>>(&o.padding()) != nullptr && (*o.dilation())[0] == 1 &&
         (*o.dilation())[1] == 1 && o.groups() == 1 &&
         c10::get_if<torch::enumtype::kZeros>(&o.padding_mode()) != nullptr;
}

bool winograd_shape(const torch::nn::detail::ConvNdOptions<2>& o) {
  const auto& padding = *c10::get<torch::ExpandingArray<2>>(o.padding());
  return (*o.kernel_size())[0] == 3 && (*o.kernel_size())[1] == 3 && (*o.stride())[0] == 1 && (*o.stride())[1] == 1 &&
         padding[0] <= 1 && padding[1] <= 1 && o.in_channels() >= 16 && o.out_channels() >= 16;
}

bool fast_kernels_available() {
#if CARGOVISION_HAVE_ONEDNN
  static const bool available = cpu_builds(PlanKey::kPackedDirect);
  return available;
#else
  return false;
#endif
}

bool winograd_kernels_available() {
#if CARGOVISION_HAVE_ONEDNN
  static const bool available = fast_kernels_available() && cpu_builds(PlanKey::kTraining);
  return available;
#else
  return false;
#endif
}

torch::Tensor onednn_conv2d(const torch::nn::Conv2dImpl& conv, const torch::Tensor& input) {
#if CARGOVISION_HAVE_ONEDNN
  const auto& options = conv.options;
  const auto& weight = conv.weight;
  const auto& bias = conv.bias;
  if (!fast_kernels_enabled() || !plain_convolution(options) || input.dim() != 4 || !input.device().is_cpu() ||
      input.layout() != torch::kStrided || input.scalar_type() != torch::kFloat ||
      weight.scalar_type() != torch::kFloat || !weight.device().is_cpu() || input.size(1) != options.in_channels() ||
      input.size(0) == 0 || !fast_kernels_available()) {
    return {};
  }
  const bool grad = torch::GradMode::is_enabled() &&
                    (input.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad()));
  const bool packing = packed_weights_scope_open();
  // Without Winograd (AVX2 and older CPUs) 3x3 convolutions take the packed direct route below like any other
  // spatial kernel, and training stays on LibTorch: its oneDNN convolution is the same direct kernel.
  const bool winograd = winograd_shape(options) && winograd_kernels_available();
  // Other shapes run the same direct kernels inside LibTorch: only packed weights make oneDNN worth calling, and
  // only for spatial kernels over >= 16 input channels (2x2 and strided 3x3: 0.4-0.9x LibTorch's time); LibTorch's
  // few-channel input layers stay faster (measured at batch 1 to 64).
  // 1x1 convolutions of small batches pay too: LibTorch reorders their weights on every call, which at batch 1
  // is a sixth of ResNet152's time. Packed: ResNet152 at batch 1 172 -> 151 ms capped at AVX2 (batch 4 150 -> 138
  // ms per image), 150-158 -> 116-140 ms on AVX-512 (see build_plan for the kernel). From batch 32 on the reorder
  // is spread over the batch and both measure the same.
  const bool spatial = (*options.kernel_size())[0] * (*options.kernel_size())[1] > 1;
  const bool small_pointwise = input.size(0) <= kPackedInferenceMaxBatch;
  const bool packed_direct_pays = packing && !grad && options.in_channels() >= 16 && (spatial || small_pointwise);
  if (!winograd && !packed_direct_pays) return {};
  const auto padding = *c10::get<torch::ExpandingArray<2>>(options.padding());
  PlanKey key{input.size(0),           input.size(1),           input.size(2),        input.size(3),
              options.out_channels(),  (*options.kernel_size())[0], (*options.kernel_size())[1],
              (*options.stride())[0],  (*options.stride())[1],  padding[0],           padding[1],
              bias.defined(),          PlanKey::kTraining};
  if (!grad) {
    if (!winograd) key.pass = PlanKey::kPackedDirect;
    else if (packing && key.batch <= kPackedInferenceMaxBatch) key.pass = PlanKey::kPackedInference;
    else key.pass = PlanKey::kInference;
  }
  const Plan* plan = find_plan(key);
  if (plan == nullptr) return {};
  RECORD_FUNCTION(winograd ? "cargovision::winograd_conv2d" : "cargovision::packed_conv2d",
                  std::vector<c10::IValue>({input}));  // named in profiles
  const auto contiguous_input = input.contiguous();
  const auto contiguous_weight = weight.contiguous();
  c10::optional<torch::Tensor> contiguous_bias;
  if (bias.defined()) contiguous_bias = bias.contiguous();
  if (grad) return WinogradConvolution::apply(contiguous_input, contiguous_weight, contiguous_bias, plan);
  torch::NoGradGuard no_grad;
  return run_forward(*plan, contiguous_input, packed_weights(*plan, contiguous_weight), contiguous_bias).output;
#else
  (void)conv;
  (void)input;
  return {};
#endif
}

torch::Tensor own_winograd_conv2d(const torch::nn::Conv2dImpl& conv, const torch::Tensor& input) {
  const auto& options = conv.options;
  if (!fast_kernels_enabled() || winograd_kernels_available() || !plain_convolution(options) ||
      !winograd_shape(options) || input.dim() != 4 || !input.device().is_cpu() ||
      input.layout() != torch::kStrided || input.scalar_type() != torch::kFloat ||
      conv.weight.scalar_type() != torch::kFloat || !conv.weight.device().is_cpu() ||
      input.size(1) != options.in_channels()) {
    return {};
  }
  const auto padding = *c10::get<torch::ExpandingArray<2>>(options.padding());
  const int64_t out_h = input.size(2) + 2 * padding[0] - 2, out_w = input.size(3) + 2 * padding[1] - 2;
  if (out_h < 1 || out_w < 1) return {};
  const int64_t batch = input.size(0), in_channels = options.in_channels(), out_channels = options.out_channels();
  c10::optional<torch::Tensor> bias;
  if (conv.bias.defined()) bias = conv.bias;
#if CARGOVISION_HAVE_ONEDNN
  // Fixed weights at inference: transformed once per scope, kept with the oneDNN layouts (plain layouts of 3 or 5
  // dimensions that no convolution weight has, so the entries are the own Winograds').
  const auto& weight = conv.weight;
  const bool needs_grad = torch::GradMode::is_enabled() &&
                          (input.requires_grad() || weight.requires_grad() || (bias && (*bias).requires_grad()));
  if (!needs_grad && packed_weights_scope_open()) {
    if (winograd_f2_pays(batch, in_channels, out_channels, out_h, out_w)) {
      RECORD_FUNCTION("cargovision::winograd_f2x3", std::vector<c10::IValue>({input}));  // named in profiles
      const memory::desc layout({16, (out_channels + 15) / 16, in_channels, 16, 1}, memory::data_type::f32,
                                memory::format_tag::abcde);
      const auto packed = onednn::packed({weight}, layout, [&] { return winograd_f2_packed_weight(weight); });
      return winograd_f2_conv2d_inference(input, packed, out_channels, bias, padding[0], padding[1]);
    }
    if (winograd_conv2d_pays(batch, in_channels, out_channels, out_h, out_w)) {
      RECORD_FUNCTION("cargovision::winograd_f4x3", std::vector<c10::IValue>({input}));
      const memory::desc layout({36, out_channels, in_channels}, memory::data_type::f32, memory::format_tag::abc);
      const auto transformed = onednn::packed({weight}, layout, [&] { return winograd_transformed_weight(weight); });
      return winograd_conv2d_inference(input, transformed, bias, padding[0], padding[1]);
    }
    return {};
  }
#endif
  if (!winograd_conv2d_pays(batch, in_channels, out_channels, out_h, out_w)) return {};
  RECORD_FUNCTION("cargovision::winograd_f4x3", std::vector<c10::IValue>({input}));
  return winograd_conv2d(input, conv.weight, bias, padding[0], padding[1]);
}

torch::Tensor FastConv2dImpl::forward(const torch::Tensor& input) {
  auto output = own_winograd_conv2d(*this, input);
  if (!output.defined()) output = onednn_conv2d(*this, input);
  return output.defined() ? output : torch::nn::Conv2dImpl::forward(input);
}

}  // namespace cargovision::models
