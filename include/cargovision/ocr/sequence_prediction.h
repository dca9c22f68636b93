#pragma once
// Stages 3 and 4 of the recognizer: the BiLSTM sequence model and the attention decoder (the CTC
// prediction is a plain Linear). Names follow the original modules.

#include <torch/torch.h>

namespace cargovision::ocr {

class BidirectionalLstmImpl : public torch::nn::Module {
 public:
  BidirectionalLstmImpl(int64_t input_size, int64_t hidden_size, int64_t output_size);
  torch::Tensor forward(torch::Tensor input);  // [B, T, in] -> [B, T, out]
  torch::nn::LSTM rnn{nullptr};
  torch::nn::Linear linear{nullptr};
};
TORCH_MODULE(BidirectionalLstm);

class AttentionCellImpl : public torch::nn::Module {
 public:
  AttentionCellImpl(int64_t input_size, int64_t hidden_size, int64_t num_embeddings);
  // One decoding step. `projected_features` = i2h(features), computed once per sequence.
  std::tuple<torch::Tensor, torch::Tensor> forward(const std::tuple<torch::Tensor, torch::Tensor>& previous,
                                                   const torch::Tensor& features,
                                                   const torch::Tensor& projected_features,
                                                   const torch::Tensor& char_onehots);
  torch::nn::Linear i2h{nullptr}, h2h{nullptr}, score{nullptr};
  torch::nn::LSTMCell rnn{nullptr};
};
TORCH_MODULE(AttentionCell);

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int64_t input_size, int64_t hidden_size, int64_t num_classes);
  // Training: teacher forcing with `text` [B, steps] ([GO] + label); inference: greedy from [GO].
  // Returns logits [B, steps, num_classes] with steps = batch_max_length + 1. With `stop_when_all_ended`
  // (inference only), greedy decoding stops after the step at which the last sequence of the batch emitted [s]:
  // fewer steps, each identical to the same step of a full run, since the rows never mix.
  torch::Tensor forward(const torch::Tensor& features, const torch::Tensor& text, bool is_train,
                        int64_t batch_max_length, bool stop_when_all_ended = false);
  AttentionCell attention_cell{nullptr};
  torch::nn::Linear generator{nullptr};

 private:
  // Greedy inference with what does not change from step to step computed once per sequence (the fast
  // kernels' path, results equal to float rounding): the LSTM's input weights applied to the features,
  // since its context input is alpha^T features; each character's one-hot input as a row of those
  // weights; h2h and the LSTM's hidden weights applied to the previous state in one product. A step then
  // reads a quarter of the weights the plain step reads, which is what a step costs at small batches.
  torch::Tensor decode_greedily_precomputed(const torch::Tensor& features, const torch::Tensor& projected,
                                            int64_t steps, bool stop_when_all_ended);

  int64_t hidden_size_, num_classes_;
};
TORCH_MODULE(Attention);

}  // namespace cargovision::ocr
