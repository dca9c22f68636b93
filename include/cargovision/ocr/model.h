#pragma once
// The four-stage scene-text recognizer of Baek et al. (ICCV 2019):
// Transformation (None|TPS) -> FeatureExtraction (VGG|RCNN|ResNet) -> SequenceModeling (None|BiLSTM)
// -> Prediction (CTC|Attn). Attribute names are the original's, so the state dict (with the
// "module." prefix DataParallel adds, see checkpoint.h) is key-for-key the original's.

#include <torch/torch.h>

#include <string>

#include "cargovision/ocr/feature_extraction.h"
#include "cargovision/ocr/model_options.h"
#include "cargovision/ocr/sequence_prediction.h"
#include "cargovision/ocr/transformation.h"

namespace cargovision::ocr {

// "TPS-ResNet-BiLSTM-Attn".
std::string stage_name(const OcrModelOptions& options);

class OcrModelImpl : public torch::nn::Module {
 public:
  explicit OcrModelImpl(const OcrModelOptions& options);
  // input [B, C, imgH, imgW]; text [B, batch_max_length + 1] for Attn ([GO] + label when training;
  // ignored at inference and by CTC). Returns logits [B, T, num_class].
  torch::Tensor forward(torch::Tensor input, const torch::Tensor& text = {}, bool is_train = true);
  // Greedy inference logits; for Attn with `stop_when_all_ended`, only the steps up to the last [s] of the batch
  // (see AttentionImpl::forward). The same as forward(input, {}, false) otherwise.
  torch::Tensor predict(torch::Tensor input, bool stop_when_all_ended = false);
  const OcrModelOptions& options() const { return options_; }
  // Encoder steps T the feature extractor yields for imgW (the CTC output length).
  int64_t sequence_length() const { return sequence_length_; }
  // Stages 1-3: [B, T, C], the features the Prediction stage reads.
  torch::Tensor contextual_features(torch::Tensor input);

  // The stages, registered under the original's names; null where the options leave a stage out
  // (Transformation None, SequenceModeling None), and one of the two Prediction heads.
  TpsSpatialTransformer transformation{nullptr};
  FeatureExtractor feature_extraction{nullptr};
  ConvSequence sequence_modeling{nullptr};
  torch::nn::Linear ctc_prediction{nullptr};
  Attention attention_prediction{nullptr};

 private:
  OcrModelOptions options_;
  int64_t sequence_length_ = 0;
};
TORCH_MODULE(OcrModel);

// As the original train.py: biases 0, weights kaiming-normal, 1-D weights (BatchNorm) 1, and every
// parameter of localization_fc2 left as constructed (zero weight, fiducial bias).
void initialize_like_original(torch::nn::Module& model);

int64_t count_trainable_parameters(const torch::nn::Module& module);

}  // namespace cargovision::ocr
