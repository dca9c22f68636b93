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

Recognition recognize_in_slices(OcrModel& model, const LabelConverter& converter, const torch::Tensor& images,
                                int64_t max_batch, bool stop_when_all_ended) {
  TORCH_CHECK(max_batch > 0, "recognize_in_slices: max_batch must be positive, got ", max_batch);
  if (images.size(0) <= max_batch) return recognize(model, converter, images, stop_when_all_ended);
  Recognition joined;
  std::vector<torch::Tensor> logits;
  int64_t steps = 0;
  for (int64_t first = 0; first < images.size(0); first += max_batch) {
    const auto slice_images = images.slice(0, first, std::min(images.size(0), first + max_batch));
    Recognition slice = recognize(model, converter, slice_images, stop_when_all_ended);
    steps = std::max(steps, slice.logits.size(1));
    logits.push_back(slice.logits);
    joined.predictions.insert(joined.predictions.end(), slice.predictions.begin(), slice.predictions.end());
    joined.confidence.insert(joined.confidence.end(), slice.confidence.begin(), slice.confidence.end());
  }
  for (auto& slice_logits : logits) {
    if (slice_logits.size(1) < steps) {
      slice_logits = torch::constant_pad_nd(slice_logits, {0, 0, 0, steps - slice_logits.size(1)});
    }
  }
  joined.logits = torch::cat(logits, 0);
  return joined;
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

RecognitionLossTerms recognition_loss_terms(const OcrModel& model, const torch::Tensor& logits,
                                            const EncodedText& target) {
  namespace F = torch::nn::functional;
  if (model->options().Prediction == "CTC") {
    const auto batch = logits.size(0);
    const auto log_probs = logits.log_softmax(2).permute({1, 0, 2});
    const auto input_lengths = torch::full({batch}, logits.size(1), torch::kLong);
    const auto per_sample = F::ctc_loss(log_probs, target.text.to(logits.device()), input_lengths, target.length,
                                        F::CTCLossFuncOptions().blank(0).zero_infinity(true).reduction(torch::kNone));
    // What reduction "mean" averages: each sample's loss over its target length.
    const auto lengths = target.length.to(logits.device()).clamp_min(1).to(per_sample.scalar_type());
    return {(per_sample / lengths).sum(), static_cast<double>(batch)};
  }
  const auto shifted = target.text.slice(1, 1).to(logits.device());
  const auto steps = std::min(logits.size(1), shifted.size(1));
  const auto targets = shifted.slice(1, 0, steps).reshape({-1});
  const auto sum = F::cross_entropy(logits.slice(1, 0, steps).reshape({-1, logits.size(2)}), targets,
                                    F::CrossEntropyFuncOptions().ignore_index(0).reduction(torch::kSum));
  return {sum, static_cast<double>((targets != 0).sum().item<int64_t>())};
}

void ValidationResult::update_means() {
  if (samples == 0) return;
  loss = batches > 0 ? loss_sum / static_cast<double>(batches) : 0.0;
  accuracy = 100.0 * static_cast<double>(correct) / static_cast<double>(samples);
  norm_ED = norm_ED_sum / static_cast<double>(samples);
}

ValidationResult run_validation(OcrModel& model, const LabelConverter& converter, SequentialOcrLoader& loader,
                                const c10::Device& device, const ScoringRules& rules) {
  torch::NoGradGuard no_grad;
  models::PackedWeightsScope packed_weights;  // fixed for this validation round
  ValidationResult result;
  while (auto batch = loader.next()) {
    const auto images = batch->images.to(device);
    const auto target = converter.encode(batch->labels, model->options().batch_max_length);
    const auto start = std::chrono::steady_clock::now();
    const Recognition recognition = recognize(model, converter, images);
    result.inference_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.loss_sum += recognition_loss(model, recognition.logits, target).item<double>();
    ++result.batches;
    for (std::size_t i = 0; i < batch->labels.size(); ++i) {
      const SampleScore score = score_prediction(recognition.predictions[i], batch->labels[i], rules);
      result.correct += score.correct ? 1 : 0;
      result.norm_ED_sum += score.norm_ED;
      result.ground_truths.push_back(batch->labels[i]);
      result.predictions.push_back(recognition.predictions[i]);
      result.confidence.push_back(recognition.confidence[i]);
    }
    result.samples += batch->labels.size();
  }
  result.update_means();
  return result;
}

}  // namespace cargovision::ocr
