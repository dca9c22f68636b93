#include "cargovision/ocr/model.h"

#include "cargovision/ocr/feature_extraction.h"
#include "cargovision/ocr/sequence_prediction.h"
#include "cargovision/ocr/transformation.h"

namespace cargovision::ocr {
namespace nn = torch::nn;

std::string stage_name(const OcrModelOptions& o) {
  return o.Transformation + "-" + o.FeatureExtraction + "-" + o.SequenceModeling + "-" + o.Prediction;
}

OcrModelImpl::OcrModelImpl(const OcrModelOptions& options) : options_(options) {
  TORCH_CHECK(options.Transformation == "None" || options.Transformation == "TPS", "unknown Transformation '",
              options.Transformation, "' (valid: None, TPS)");
  TORCH_CHECK(options.SequenceModeling == "None" || options.SequenceModeling == "BiLSTM", "unknown SequenceModeling '",
              options.SequenceModeling, "' (valid: None, BiLSTM)");
  TORCH_CHECK(options.Prediction == "CTC" || options.Prediction == "Attn", "unknown Prediction '", options.Prediction,
              "' (valid: CTC, Attn)");
  TORCH_CHECK(options.input_channel == 1 || options.input_channel == 3, "input_channel must be 1 or 3, got ",
              options.input_channel);
  TORCH_CHECK(options.num_class >= 2, "num_class must be at least 2, got ", options.num_class);
  TORCH_CHECK(options.hidden_size > 0, "hidden_size must be positive, got ", options.hidden_size);
  TORCH_CHECK(options.imgH >= 8 && options.imgW >= 8, "imgH x imgW = ", options.imgH, "x", options.imgW,
              " is too small");
  if (options.Transformation == "TPS") {
    transformation_ = nn::AnyModule(
        TpsSpatialTransformer(options.num_fiducial, options.imgH, options.imgW, options.input_channel));
    register_module("Transformation", transformation_.ptr());
  }
  auto features = FeatureExtractor(options.FeatureExtraction, options.input_channel, options.output_channel);
  feature_extraction_ = nn::AnyModule(features);
  register_module("FeatureExtraction", features);

  // Dry run: the feature extractor's height must pool down to >= 1 and its width gives T.
  {
    torch::NoGradGuard no_grad;
    features->eval();
    torch::Tensor out;
    try {
      out = features->forward(torch::zeros({1, options.input_channel, options.imgH, options.imgW}));
    } catch (const c10::Error&) {
      TORCH_CHECK(false, "imgH x imgW = ", options.imgH, "x", options.imgW, " is too small for FeatureExtraction ",
                  options.FeatureExtraction, " (the original uses 32x100)");
    }
    features->train();
    sequence_length_ = out.size(3);
  }

  int64_t feature_size = options.output_channel;
  if (options.SequenceModeling == "BiLSTM") {
    ConvSequence sequence(BidirectionalLstm(feature_size, options.hidden_size, options.hidden_size),
                            BidirectionalLstm(options.hidden_size, options.hidden_size, options.hidden_size));
    sequence_modeling_ = nn::AnyModule(sequence);
    register_module("SequenceModeling", sequence);
    feature_size = options.hidden_size;
  }
  if (options.Prediction == "CTC") {
    nn::Linear linear(feature_size, options.num_class);
    ctc_prediction_ = nn::AnyModule(linear);
    register_module("Prediction", linear);
  } else {
    auto attention = Attention(feature_size, options.hidden_size, options.num_class);
    attention_ = attention.ptr();
    register_module("Prediction", attention);
  }
}

torch::Tensor OcrModelImpl::contextual_features(torch::Tensor input) {
  if (!transformation_.is_empty()) input = transformation_.forward(input);
  auto features = feature_extraction_.forward(input);                       // [B, C, h, w]
  features = features.permute({0, 3, 1, 2}).mean(3);                        // pool the height: [B, w, C]
  if (!sequence_modeling_.is_empty()) features = sequence_modeling_.forward(features);
  return features.contiguous();
}

torch::Tensor OcrModelImpl::forward(torch::Tensor input, const torch::Tensor& text, bool is_train) {
  const auto features = contextual_features(std::move(input));
  if (!ctc_prediction_.is_empty()) return ctc_prediction_.forward(features);
  return std::static_pointer_cast<AttentionImpl>(attention_)
      ->forward(features, text, is_train, options_.batch_max_length);
}

torch::Tensor OcrModelImpl::predict(torch::Tensor input, bool stop_when_all_ended) {
  const auto features = contextual_features(std::move(input));
  if (!ctc_prediction_.is_empty()) return ctc_prediction_.forward(features);
  return std::static_pointer_cast<AttentionImpl>(attention_)
      ->forward(features, {}, /*is_train=*/false, options_.batch_max_length, stop_when_all_ended);
}

void initialize_like_original(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& item : model.named_parameters()) {
    const std::string& name = item.key();
    auto& parameter = item.value();
    if (name.find("localization_fc2") != std::string::npos) continue;
    if (name.find("bias") != std::string::npos) {
      parameter.zero_();
    } else if (name.find("weight") != std::string::npos) {
      if (parameter.dim() < 2) parameter.fill_(1.0);  // kaiming fails on 1-D tensors (BatchNorm)
      else torch::nn::init::kaiming_normal_(parameter);
    }
  }
}

int64_t count_trainable_parameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& parameter : module.parameters()) {
    if (parameter.requires_grad()) total += parameter.numel();
  }
  return total;
}

}  // namespace cargovision::ocr
