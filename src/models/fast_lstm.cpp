#include "cargovision/models/fast_lstm.h"

#include <algorithm>
#include <array>

#include "onednn_support.h"

namespace cargovision::models {

#if CARGOVISION_HAVE_ONEDNN
namespace {

using dnnl::memory;

struct LstmKey {
  int64_t time, batch, features, hidden, directions;
  std::array<int64_t, 5> fields() const { return {time, batch, features, hidden, directions}; }
  bool operator==(const LstmKey& o) const { return fields() == o.fields(); }
};

struct LstmKeyHash {
  std::size_t operator()(const LstmKey& k) const { return onednn::hash_fields(k.fields()); }
};

struct LstmPlan {
  memory::desc src, dst, bias;
  dnnl::lstm_forward::primitive_desc pd;
  dnnl::lstm_forward primitive;
  onednn::Reorder layer_weights_in, iter_weights_in;
};

std::unique_ptr<LstmPlan> build_lstm_plan(const LstmKey& key) {
  const auto f32 = memory::data_type::f32;
  using tag = memory::format_tag;
  auto plan = std::make_unique<LstmPlan>();
  // LibTorch's batch-first tensors are oneDNN's ntc; its per-direction [4H, in] weights stacked over the
  // directions are ldgoi, and its gate order (i, f, g, o) is oneDNN's.
  plan->src = memory::desc({key.time, key.batch, key.features}, f32, tag::ntc);
  plan->dst = memory::desc({key.time, key.batch, key.directions * key.hidden}, f32, tag::ntc);
  plan->bias = memory::desc({1, key.directions, 4, key.hidden}, f32, tag::ldgo);
  const memory::dims layer_weights{1, key.directions, key.features, 4, key.hidden};
  const memory::dims iter_weights{1, key.directions, key.hidden, 4, key.hidden};
  const auto direction = key.directions == 2 ? dnnl::rnn_direction::bidirectional_concat
                                             : dnnl::rnn_direction::unidirectional_left2right;
  plan->pd = dnnl::lstm_forward::primitive_desc(
      dnnl::lstm_forward::desc(dnnl::prop_kind::forward_inference, direction, plan->src, memory::desc(),
                               memory::desc(), onednn::any_layout(layer_weights), onednn::any_layout(iter_weights),
                               plan->bias, plan->dst, memory::desc(), memory::desc()),
      onednn::cpu_engine());
  plan->primitive = dnnl::lstm_forward(plan->pd);
  plan->layer_weights_in = onednn::Reorder(memory::desc(layer_weights, f32, tag::ldgoi), plan->pd.weights_layer_desc());
  plan->iter_weights_in = onednn::Reorder(memory::desc(iter_weights, f32, tag::ldgoi), plan->pd.weights_iter_desc());
  return plan;
}

const LstmPlan* find_plan(const LstmKey& key) {
  static onednn::PlanCache<LstmKey, LstmPlan, LstmKeyHash> plans;
  return plans.find(key, build_lstm_plan);
}

}  // namespace
#endif

torch::Tensor onednn_lstm_sequence(const torch::nn::LSTMImpl& lstm, const torch::Tensor& input) {
#if CARGOVISION_HAVE_ONEDNN
  const auto& options = lstm.options;
  if (!fast_kernels_enabled() || !fast_kernels_available() || options.num_layers() != 1 || !options.bias() ||
      !options.batch_first() || options.proj_size() != 0 || input.dim() != 3 || !input.device().is_cpu() ||
      input.layout() != torch::kStrided || input.scalar_type() != torch::kFloat ||
      input.size(2) != options.input_size() || input.size(0) == 0 || input.size(1) == 0) {
    return {};
  }
  const auto weights = lstm.all_weights();  // per direction: weight_ih, weight_hh, bias_ih, bias_hh
  const int64_t directions = options.bidirectional() ? 2 : 1;
  if (static_cast<int64_t>(weights.size()) != 4 * directions) return {};
  const bool grad = torch::GradMode::is_enabled() &&
                    (input.requires_grad() ||
                     std::any_of(weights.begin(), weights.end(), [](const auto& w) { return w.requires_grad(); }));
  if (grad || std::any_of(weights.begin(), weights.end(), [](const auto& w) {
        return w.scalar_type() != torch::kFloat || !w.device().is_cpu();
      })) {
    return {};
  }
  const LstmKey key{input.size(1), input.size(0), input.size(2), options.hidden_size(), directions};
  const LstmPlan* plan = find_plan(key);
  if (plan == nullptr) return {};
  RECORD_FUNCTION("cargovision::onednn_lstm", std::vector<c10::IValue>({input}));  // named in profiles

  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> input_weights, hidden_weights, biases;
  for (int64_t d = 0; d < directions; ++d) {
    input_weights.push_back(weights[4 * d]);
    hidden_weights.push_back(weights[4 * d + 1]);
    biases.push_back(weights[4 * d + 2]);
    biases.push_back(weights[4 * d + 3]);
  }
  const auto layer_weights = onednn::packed(input_weights, plan->pd.weights_layer_desc(), [&] {
    return plan->layer_weights_in(torch::stack(input_weights).contiguous());
  });
  const auto iter_weights = onednn::packed(hidden_weights, plan->pd.weights_iter_desc(), [&] {
    return plan->iter_weights_in(torch::stack(hidden_weights).contiguous());
  });
  const auto bias = onednn::packed(biases, plan->bias, [&] {
    std::vector<torch::Tensor> summed;  // oneDNN has one bias per gate where LibTorch has two
    for (int64_t d = 0; d < directions; ++d) summed.push_back(biases[2 * d] + biases[2 * d + 1]);
    return torch::stack(summed).contiguous();
  });
  const auto source = input.contiguous();
  auto output = torch::empty({input.size(0), input.size(1), directions * options.hidden_size()}, input.options());
  plan->primitive.execute(onednn::cpu_stream(),
                          {{DNNL_ARG_SRC_LAYER, onednn::view(plan->src, source)},
                           {DNNL_ARG_WEIGHTS_LAYER, onednn::view(plan->pd.weights_layer_desc(), layer_weights)},
                           {DNNL_ARG_WEIGHTS_ITER, onednn::view(plan->pd.weights_iter_desc(), iter_weights)},
                           {DNNL_ARG_BIAS, onednn::view(plan->bias, bias)},
                           {DNNL_ARG_DST_LAYER, onednn::view(plan->dst, output)}});
  return output;
#else
  (void)lstm;
  (void)input;
  return {};
#endif
}

}  // namespace cargovision::models
