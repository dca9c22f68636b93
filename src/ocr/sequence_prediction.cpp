#include "cargovision/ocr/sequence_prediction.h"

#include "cargovision/models/fast_kernels.h"
#include "cargovision/models/fast_lstm.h"

namespace cargovision::ocr {
namespace nn = torch::nn;

BidirectionalLstmImpl::BidirectionalLstmImpl(int64_t input_size, int64_t hidden_size, int64_t output_size) {
  rnn = register_module("rnn", nn::LSTM(nn::LSTMOptions(input_size, hidden_size).bidirectional(true).batch_first(true)));
  linear = register_module("linear", nn::Linear(hidden_size * 2, output_size));
}

torch::Tensor BidirectionalLstmImpl::forward(torch::Tensor input) {
  auto recurrent = models::onednn_lstm_sequence(*rnn, input);
  if (!recurrent.defined()) {
    rnn->flatten_parameters();
    recurrent = std::get<0>(rnn->forward(input));
  }
  return linear->forward(recurrent);
}

namespace {

// What both greedy decoders do after each step: feed back the likeliest character, keep the step's logits,
// and with `stop_when_all_ended` stop after the step at which the last sequence of the batch emitted [s].
class GreedySteps {
 public:
  GreedySteps(int64_t batch, int64_t steps, const torch::TensorOptions& options, bool stop_when_all_ended)
      : previous_(torch::zeros({batch}, options.dtype(torch::kLong))),  // [GO]
        ended_(torch::zeros({batch}, options.dtype(torch::kBool))),
        stop_when_all_ended_(stop_when_all_ended) {
    logits_.reserve(steps);
  }

  const torch::Tensor& previous() const { return previous_; }

  // False once decoding may stop.
  bool record(torch::Tensor step_logits) {
    constexpr int64_t kEndOfSentence = 1;  // [s]
    previous_ = step_logits.argmax(1);
    logits_.push_back(std::move(step_logits));
    if (!stop_when_all_ended_) return true;
    ended_.logical_or_(previous_ == kEndOfSentence);
    return !ended_.all().item<bool>();
  }

  torch::Tensor logits() const { return torch::stack(logits_, 1); }

 private:
  torch::Tensor previous_, ended_;
  std::vector<torch::Tensor> logits_;
  bool stop_when_all_ended_;
};

}  // namespace

AttentionCellImpl::AttentionCellImpl(int64_t input_size, int64_t hidden_size, int64_t num_embeddings) {
  i2h = register_module("i2h", nn::Linear(nn::LinearOptions(input_size, hidden_size).bias(false)));
  h2h = register_module("h2h", nn::Linear(hidden_size, hidden_size));
  score = register_module("score", nn::Linear(nn::LinearOptions(hidden_size, 1).bias(false)));
  rnn = register_module("rnn", nn::LSTMCell(input_size + num_embeddings, hidden_size));
}

std::tuple<torch::Tensor, torch::Tensor> AttentionCellImpl::forward(
    const std::tuple<torch::Tensor, torch::Tensor>& previous, const torch::Tensor& features,
    const torch::Tensor& projected_features, const torch::Tensor& char_onehots) {
  const auto hidden_projection = h2h->forward(std::get<0>(previous)).unsqueeze(1);
  const auto energy = score->forward(torch::tanh(projected_features + hidden_projection));  // [B, T, 1]
  const auto alpha = torch::softmax(energy, 1);
  const auto context = torch::bmm(alpha.permute({0, 2, 1}), features).squeeze(1);           // [B, in]
  return rnn->forward(torch::cat({context, char_onehots}, 1), previous);
}

AttentionImpl::AttentionImpl(int64_t input_size, int64_t hidden_size, int64_t num_classes)
    : hidden_size_(hidden_size), num_classes_(num_classes) {
  attention_cell = register_module("attention_cell", AttentionCell(input_size, hidden_size, num_classes));
  generator = register_module("generator", nn::Linear(hidden_size, num_classes));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& features, const torch::Tensor& text, bool is_train,
                                     int64_t batch_max_length, bool stop_when_all_ended) {
  const int64_t batch = features.size(0);
  const int64_t steps = batch_max_length + 1;  // + [s]
  const auto options = features.options();
  std::tuple<torch::Tensor, torch::Tensor> state{torch::zeros({batch, hidden_size_}, options),
                                                 torch::zeros({batch, hidden_size_}, options)};
  // i2h(H) does not depend on the step; the original recomputes it every step with the same result.
  const auto projected = attention_cell->i2h->forward(features);
  const auto onehot = [&](const torch::Tensor& indices) {
    return torch::one_hot(indices.to(torch::kLong), num_classes_).to(options.dtype());
  };
  if (is_train) {
    TORCH_CHECK(text.dim() == 2 && text.size(1) >= steps, "attention training needs text [B, ", steps, "], got ",
                text.sizes());
    std::vector<torch::Tensor> hiddens;
    hiddens.reserve(steps);
    for (int64_t i = 0; i < steps; ++i) {
      state = attention_cell->forward(state, features, projected, onehot(text.select(1, i)));
      hiddens.push_back(std::get<0>(state));
    }
    return generator->forward(torch::stack(hiddens, 1));
  }
  if (models::fast_kernels_enabled() && !torch::GradMode::is_enabled() && attention_cell->rnn->options.bias() &&
      features.size(2) + num_classes_ == attention_cell->rnn->weight_ih.size(1)) {
    return decode_greedily_precomputed(features, projected, steps, stop_when_all_ended);
  }
  GreedySteps greedy(batch, steps, options, stop_when_all_ended);
  for (int64_t i = 0; i < steps; ++i) {
    state = attention_cell->forward(state, features, projected, onehot(greedy.previous()));
    if (!greedy.record(generator->forward(std::get<0>(state)))) break;
  }
  return greedy.logits();
}

torch::Tensor AttentionImpl::decode_greedily_precomputed(const torch::Tensor& features, const torch::Tensor& projected,
                                                         int64_t steps, bool stop_when_all_ended) {
  AttentionCellImpl& cell = *attention_cell;
  const nn::LSTMCellImpl& lstm = *cell.rnn;
  const int64_t batch = features.size(0), input_size = features.size(2), hidden = hidden_size_;
  // LSTMCell's input is [context, one-hot]: its weights split into a context part and a row per character.
  const auto feature_gates = torch::matmul(features, lstm.weight_ih.narrow(1, 0, input_size).t());  // [B, T, 4H]
  const auto character_gates = lstm.weight_ih.narrow(1, input_size, num_classes_).t().contiguous();  // [classes, 4H]
  // Everything the previous hidden state feeds, in one product: h2h (H columns) and the LSTM's gates (4H).
  const auto hidden_weights = torch::cat({cell.h2h->weight, lstm.weight_hh}, 0).t().contiguous();  // [H, 5H]
  const auto hidden_bias = torch::cat({cell.h2h->bias, lstm.bias_ih + lstm.bias_hh});              // [5H]
  auto h = torch::zeros({batch, hidden}, features.options());
  auto c = torch::zeros({batch, hidden}, features.options());
  GreedySteps greedy(batch, steps, features.options(), stop_when_all_ended);
  for (int64_t i = 0; i < steps; ++i) {
    const auto mixed = torch::addmm(hidden_bias, h, hidden_weights);  // [B, 5H]
    const auto hidden_projection = mixed.narrow(1, 0, hidden).unsqueeze(1);
    const auto energy = cell.score->forward(torch::tanh(projected + hidden_projection));  // [B, T, 1]
    const auto alpha = torch::softmax(energy, 1);
    // W (alpha^T features) = alpha^T (features W^T): the context's gates without forming the context.
    auto gates = torch::bmm(alpha.transpose(1, 2), feature_gates).squeeze(1);  // [B, 4H]
    gates.add_(mixed.narrow(1, hidden, 4 * hidden)).add_(character_gates.index_select(0, greedy.previous()));
    const auto chunks = gates.chunk(4, 1);  // LSTMCell's order: input, forget, cell, output
    c = torch::sigmoid(chunks[1]) * c + torch::sigmoid(chunks[0]) * torch::tanh(chunks[2]);
    h = torch::sigmoid(chunks[3]) * torch::tanh(c);
    if (!greedy.record(generator->forward(h))) break;
  }
  return greedy.logits();
}

}  // namespace cargovision::ocr
