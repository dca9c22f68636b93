#pragma once
// Inference and validation of the recognizer, shared by train_ocr and demo_ocr.

#include <torch/torch.h>

#include <string>
#include <vector>

#include "cargovision/ocr/batch_loader.h"
#include "cargovision/ocr/converter.h"
#include "cargovision/ocr/metrics.h"
#include "cargovision/ocr/model.h"

namespace cargovision::ocr {

struct Recognition {
  torch::Tensor logits;                  // [B, T, num_class]
  std::vector<std::string> predictions;  // cut at [s] for Attn
  std::vector<double> confidence;
};

// Greedy decoding of a batch already on the model's device (model in eval mode, no grad). With
// `stop_when_all_ended`, Attn decoding stops once every image has emitted [s]: the same predictions and
// confidences, fewer logit steps (for callers that need no loss over all steps).
Recognition recognize(OcrModel& model, const LabelConverter& converter, const torch::Tensor& images,
                      bool stop_when_all_ended = false);

// recognize() over `images` in slices of at most `max_batch` (> 0) images, joined into one Recognition: the
// memory of one slice however many images come (rereading can ask for thousands of variants at once; read as
// one batch they once took 7.7 GB). Attn slices may stop decoding at different steps, so the joined logits are
// zero-padded to the longest slice's steps, past where any row's reading ends.
Recognition recognize_in_slices(OcrModel& model, const LabelConverter& converter, const torch::Tensor& images,
                                int64_t max_batch, bool stop_when_all_ended = false);

// The training loss: CTC on log-softmax (zero_infinity) or cross-entropy ignoring [GO] padding.
// For Attn, `logits` are the steps predicted after [GO] and compared with the text shifted left.
torch::Tensor recognition_loss(const OcrModel& model, const torch::Tensor& logits, const EncodedText& target);

// The same loss as a sum and what it is averaged over (CTC: samples, each loss divided by its text
// length; Attn: the target tokens), for a batch split over ranks: sum over ranks / count over ranks.
struct RecognitionLossTerms {
  torch::Tensor sum;
  double count = 0.0;
};
RecognitionLossTerms recognition_loss_terms(const OcrModel& model, const torch::Tensor& logits,
                                            const EncodedText& target);

struct ValidationResult {
  double loss = 0.0;
  double accuracy = 0.0;   // percent
  double norm_ED = 0.0;
  std::size_t samples = 0;
  // The sums behind loss (a mean of per-batch means, as the original), accuracy and norm_ED; ranks
  // that validated parts of a set add theirs up and call update_means().
  double loss_sum = 0.0, norm_ED_sum = 0.0;
  std::size_t batches = 0, correct = 0;
  void update_means();
  double inference_seconds = 0.0;
  std::vector<std::string> ground_truths, predictions;
  std::vector<double> confidence;
};

ValidationResult run_validation(OcrModel& model, const LabelConverter& converter, SequentialOcrLoader& loader,
                                const c10::Device& device, const ScoringRules& rules);

}  // namespace cargovision::ocr
