// cargovision_bench ocr: the recognizer's inference latency and training throughput, on the shapes and loop
// of scripts/bench_ocr_model.py (the original's network in plain PyTorch).
#include <torch/torch.h>

#include "bench_tasks.h"
#include "cargovision/core/atomic_file.h"
#include "cargovision/core/error.h"
#include "cargovision/export/onnx_models.h"
#include "cargovision/models/fast_kernels.h"
#include "cargovision/ocr/converter.h"
#include "cargovision/ocr/model.h"
#include "cargovision/ocr/recognize.h"
#include "cargovision/train/adadelta.h"

namespace cargovision::bench {
namespace {

constexpr int64_t kTrainBatch = 64;

ocr::OcrModelOptions full_size(const std::string& name) {
  std::vector<std::string> stages;
  std::size_t begin = 0;
  for (std::size_t dash; (dash = name.find('-', begin)) != std::string::npos; begin = dash + 1) {
    stages.push_back(name.substr(begin, dash - begin));
  }
  stages.push_back(name.substr(begin));
  if (stages.size() != 4) throw Error("bench: model '" + name + "' is not Transformation-Feature-Sequence-Prediction");
  ocr::OcrModelOptions options;
  options.Transformation = stages[0];
  options.FeatureExtraction = stages[1];
  options.SequenceModeling = stages[2];
  options.Prediction = stages[3];
  options.num_class = stages[3] == "Attn" ? 96 : 95;  // 94 characters + [GO]/[s] or blank
  return options;
}

double inference_ms_per_image(ocr::OcrModel& model, int64_t batch, int runs) {
  torch::InferenceMode guard;
  models::PackedWeightsScope packed_weights;  // as demo_ocr runs
  const auto images = torch::randn({batch, 1, 32, 100});
  const auto text = torch::zeros({batch, model->options().batch_max_length + 1}, torch::kLong);
  return 1000.0 * median_seconds(runs, [&] { model->forward(images, text, false); }) / static_cast<double>(batch);
}

double training_samples_per_second(ocr::OcrModel& model, int runs) {
  model->train();
  const bool attn = model->options().Prediction == "Attn";
  const auto parameters = model->parameters();
  Adadelta optimizer(parameters, 1.0, 0.95, 1e-8);
  const auto images = torch::randn({kTrainBatch, 1, 32, 100});
  torch::manual_seed(1);
  ocr::EncodedText target;
  if (attn) {
    target.text = torch::randint(2, model->options().num_class, {kTrainBatch, 27}, torch::kLong);
    target.text.select(1, 0).fill_(0);
    target.length = torch::full({kTrainBatch}, 26, torch::kLong);
  } else {
    target.text = torch::randint(1, model->options().num_class, {kTrainBatch, 10}, torch::kLong);
    target.length = torch::full({kTrainBatch}, 10, torch::kLong);
  }
  auto step = [&] {
    const auto logits = attn ? model->forward(images, target.text.slice(1, 0, -1), true) : model->forward(images);
    const auto loss = ocr::recognition_loss(model, logits, target);
    model->zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(parameters, 5.0);
    optimizer.step();
  };
  return static_cast<double>(kTrainBatch) / median_seconds(runs, step);
}

}  // namespace

nlohmann::json ocr_model_bench(const std::vector<std::string>& models, int iterations, const std::string& export_dir) {
  nlohmann::json result{{"threads", torch::get_num_threads()}};
  for (const auto& name : models) {
    torch::manual_seed(0);
    ocr::OcrModel model(full_size(name));
    ocr::initialize_like_original(*model);
    model->eval();
    nlohmann::json timings;
    if (!export_dir.empty()) {  // the same weights as ONNX, for onnxruntime's timings (scripts/bench.sh onnx)
      ocr::OcrDemoOptions options;
      const auto& o = model->options();
      options.Transformation = o.Transformation;
      options.FeatureExtraction = o.FeatureExtraction;
      options.SequenceModeling = o.SequenceModeling;
      options.Prediction = o.Prediction;
      options.sensitive = true;
      finalize(static_cast<ocr::OcrRecognizerOptions&>(options));
      const std::string file = export_dir + "/" + name + ".onnx";
      write_file_atomically(file, recognizer_onnx(model, options));
      timings["onnx"] = file;
    }
    timings["infer_ms_per_image_b1"] = inference_ms_per_image(model, 1, std::max(3, iterations));
    timings["infer_ms_per_image_b64"] = inference_ms_per_image(model, 64, std::max(3, iterations / 4));
    timings["train_samples_per_s_b64"] = training_samples_per_second(model, std::max(3, iterations / 4));
    result[name] = timings;
  }
  return result;
}

}  // namespace cargovision::bench
