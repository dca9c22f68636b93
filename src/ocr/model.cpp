#include "cargovision/ocr/model.h"

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
    transformation = register_module(
        "Transformation", TpsSpatialTransformer(options.num_fiducial, options.imgH, options.imgW, options.input_channel));
  }
  feature_extraction = register_module(
      "FeatureExtraction", FeatureExtractor(options.FeatureExtraction, options.input_channel, options.output_channel));
  auto& features = feature_extraction;

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
    sequence_modeling = register_module(
        "SequenceModeling", ConvSequence(BidirectionalLstm(feature_size, options.hidden_size, options.hidden_size),
                                         BidirectionalLstm(options.hidden_size, options.hidden_size, options.hidden_size)));
    feature_size = options.hidden_size;
  }
  if (options.Prediction == "CTC") {
    ctc_prediction = register_module("Prediction", nn::Linear(feature_size, options.num_class));
  } else {
    attention_prediction = register_module("Prediction", Attention(feature_size, options.hidden_size, options.num_class));
  }
}

torch::Tensor OcrModelImpl::contextual_features(torch::Tensor input) {
  if (transformation) input = transformation->forward(input);
  auto features = feature_extraction->forward(input);  // [B, C, h, w]
  features = features.permute({0, 3, 1, 2}).mean(3);    // pool the height: [B, w, C]
  if (sequence_modeling) features = sequence_modeling->forward(features);
  return features.contiguous();
}

torch::Tensor OcrModelImpl::forward(torch::Tensor input, const torch::Tensor& text, bool is_train) {
  const auto features = contextual_features(std::move(input));
  if (ctc_prediction) return ctc_prediction->forward(features);
  return attention_prediction->forward(features, text, is_train, options_.batch_max_length);
}

torch::Tensor OcrModelImpl::predict(torch::Tensor input, bool stop_when_all_ended) {
  const auto features = contextual_features(std::move(input));
  if (ctc_prediction) return ctc_prediction->forward(features);
  return attention_prediction->forward(features, {}, /*is_train=*/false, options_.batch_max_length, stop_when_all_ended);
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
