#include "cargovision/ocr/recognize.h"

#include <chrono>

#include "cargovision/models/fast_kernels.h"
#include "cargovision/ocr/metrics.h"

namespace cargovision::ocr {

Recognition recognize(OcrModel& model, const LabelConverter& converter, const torch::Tensor& images,
                      bool stop_when_all_ended) {
  Recognition result;
  result.logits = model->predict(images, stop_when_all_ended);
  const auto [max_probability, indices] = torch::softmax(result.logits, 2).max(2);
  result.predictions = converter.decode(indices);
  result.confidence = converter.confidence(max_probability, indices);
  return result;
}

torch::Tensor recognition_loss(const OcrModel& model, const torch::Tensor& logits, const EncodedText& target) {
  if (model->options().Prediction == "CTC") {
    const auto batch = logits.size(0);
    const auto log_probs = logits.log_softmax(2).permute({1, 0, 2});
    const auto input_lengths = torch::full({batch}, logits.size(1), torch::kLong);
    namespace F = torch::nn::functional;
    return F::ctc_loss(log_probs, target.text.to(logits.device()), input_lengths, target.length,
                       F::CTCLossFuncOptions().blank(0).zero_infinity(true));
  }
  const auto shifted = target.text.slice(1, 1).to(logits.device());  // without [GO]
  const auto steps = std::min(logits.size(1), shifted.size(1));
  return torch::nn::functional::cross_entropy(
      logits.slice(1, 0, steps).reshape({-1, logits.size(2)}), shifted.slice(1, 0, steps).reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(0));
}

ValidationResult run_validation(OcrModel& model, const LabelConverter& converter, SequentialOcrLoader& loader,
                                const c10::Device& device, const ScoringRules& rules) {
  torch::NoGradGuard no_grad;
  models::PackedWeightsScope packed_weights;  // fixed for this validation round
  ValidationResult result;
  double loss_sum = 0.0, norm_ed_sum = 0.0;
  std::size_t batches = 0, correct = 0;
  while (auto batch = loader.next()) {
    const auto images = batch->images.to(device);
    const auto target = converter.encode(batch->labels, model->options().batch_max_length);
    const auto start = std::chrono::steady_clock::now();
    const Recognition recognition = recognize(model, converter, images);
    result.inference_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    loss_sum += recognition_loss(model, recognition.logits, target).item<double>();
    ++batches;
    for (std::size_t i = 0; i < batch->labels.size(); ++i) {
      const SampleScore score = score_prediction(recognition.predictions[i], batch->labels[i], rules);
      correct += score.correct ? 1 : 0;
      norm_ed_sum += score.norm_ED;
      result.ground_truths.push_back(batch->labels[i]);
      result.predictions.push_back(recognition.predictions[i]);
      result.confidence.push_back(recognition.confidence[i]);
    }
    result.samples += batch->labels.size();
  }
  if (result.samples > 0) {
    result.loss = loss_sum / static_cast<double>(batches);
    result.accuracy = 100.0 * static_cast<double>(correct) / static_cast<double>(result.samples);
    result.norm_ED = norm_ed_sum / static_cast<double>(result.samples);
  }
  return result;
}

}  // namespace cargovision::ocr
