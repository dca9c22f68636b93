// cargovision_bench ocr-stream: training samples/s of the pretraining recipe's model fed by the
// generated stream (select_data synth) against the same model fed from an LMDB of crops the same
// generator made beforehand. The generator renders in the loader threads while the model trains, so
// equal figures mean it is not the bottleneck.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "bench_tasks.h"
#include "cargovision/core/device.h"
#include "cargovision/ocr/batch_loader.h"
#include "cargovision/ocr/converter.h"
#include "cargovision/ocr/create_lmdb.h"
#include "cargovision/ocr/model.h"
#include "cargovision/ocr/recognize.h"
#include "cargovision/ocr/synthetic_codes.h"
#include "cargovision/ocr/text.h"

namespace cargovision::bench {
namespace {

ocr::OcrDataOptions stream_data_options(int batch_size) {
  ocr::OcrDataOptions data;
  data.batch_size = batch_size;
  data.sensitive = true;
  data.character = ocr::kSensitiveCharacters;
  data.workers = 2;
  return data;
}

// Generated crops written once as an LMDB (the work folder keeps it between runs).
std::string pregenerated_lmdb(const std::filesystem::path& work, int samples, const ocr::OcrDataOptions& data) {
  namespace fs = std::filesystem;
  const fs::path lmdb = work / "ocr_stream_lmdb";
  if (fs::exists(lmdb / "data.mdb")) return lmdb.string();
  const fs::path crops = work / "ocr_stream_crops";
  fs::create_directories(crops);
  ocr::OcrDataOptions colour = data;
  colour.rgb = true;
  ocr::SyntheticCodeSource source(12345, static_cast<std::size_t>(samples), colour);
  std::ofstream gt(crops / "gt.txt");
  for (int i = 0; i < samples; ++i) {
    const ocr::OcrSample sample = source.get(static_cast<std::size_t>(i));
    cv::Mat bgr;
    cv::cvtColor(sample.image, bgr, cv::COLOR_RGB2BGR);
    const std::string name = "s" + std::to_string(i) + ".jpg";
    cv::imwrite((crops / name).string(), bgr, {cv::IMWRITE_JPEG_QUALITY, 95});
    gt << name << '\t' << sample.label << '\n';
  }
  gt.close();
  ocr::create_lmdb_dataset(crops.string(), (crops / "gt.txt").string(), lmdb.string(), true);
  return lmdb.string();
}

// One model trains in turns from each loader: a few segments of each, alternating, so that a machine
// slowing down or speeding up during the run (other load, clocks) weighs on every figure alike.
std::vector<double> train_samples_per_second(const std::vector<ocr::BatchBalancedLoader*>& loaders, int iterations) {
  torch::manual_seed(1);
  ocr::AttnLabelConverter converter(ocr::kSensitiveCharacters);
  ocr::OcrModelOptions options;  // the pretraining recipe's model (configs/ocr_pretrain.json)
  options.output_channel = 128;
  options.hidden_size = 128;
  options.num_class = converter.num_class();
  ocr::OcrModel model(options);
  ocr::initialize_like_original(*model);
  model->train();
  auto parameters = model->parameters();
  torch::optim::Adam optimizer(parameters, torch::optim::AdamOptions(5e-4));
  const auto step = [&](ocr::BatchBalancedLoader& loader) {
    const ocr::OcrBatch batch = loader.next();
    const auto target = converter.encode(batch.labels, options.batch_max_length);
    auto logits = model->forward(batch.images, target.text.slice(1, 0, -1), true);
    auto loss = ocr::recognition_loss(model, logits, target);
    model->zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(parameters, 5.0);
    optimizer.step();
    return static_cast<double>(batch.labels.size());
  };
  // A loader left waiting has filled its queue (3 batches) meanwhile: those and one more are not timed,
  // and during them the loader just left refills its own queue.
  constexpr int kSegments = 4, kUntimed = 4;
  const int per_segment = std::max(1, iterations / kSegments);
  std::vector<double> samples(loaders.size(), 0.0), seconds(loaders.size(), 0.0);
  for (int segment = 0; segment < kSegments; ++segment) {
    for (std::size_t feed = 0; feed < loaders.size(); ++feed) {
      for (int i = 0; i < kUntimed; ++i) step(*loaders[feed]);
      const auto start = Clock::now();
      for (int i = 0; i < per_segment; ++i) samples[feed] += step(*loaders[feed]);
      seconds[feed] += seconds_since(start);
    }
  }
  std::vector<double> rates;
  for (std::size_t feed = 0; feed < loaders.size(); ++feed) rates.push_back(samples[feed] / seconds[feed]);
  return rates;
}

}  // namespace

nlohmann::json ocr_stream_bench(const std::string& work, int iterations) {
  constexpr int kBatch = 32;
  ocr::OcrDataOptions data = stream_data_options(kBatch);
  data.train_data = pregenerated_lmdb(work, 2048, data);
  data.select_data = "/";
  data.batch_ratio = "1";
  nlohmann::json result{{"batch_size", kBatch}, {"model", "TPS-ResNet-BiLSTM-Attn 128/128, 96 classes"}};
  ocr::BatchBalancedLoader lmdb_loader(data, 1111);
  data.select_data = ocr::kSyntheticSelection;
  ocr::BatchBalancedLoader stream_loader(data, 1111);
  const std::vector<double> rates = train_samples_per_second({&lmdb_loader, &stream_loader}, iterations);
  result["lmdb_samples_per_s"] = rates[0];
  result["stream_samples_per_s"] = rates[1];
  // The generator alone, single thread: how many crops per second one loader thread renders.
  ocr::SyntheticCodeSource source(7, ocr::SyntheticCodeSource::kEndless, data);
  const auto start = Clock::now();
  for (std::size_t i = 0; i < 200; ++i) source.get(i);
  result["generator_crops_per_s_1_thread"] = 200 / seconds_since(start);
  return result;
}

}  // namespace cargovision::bench
