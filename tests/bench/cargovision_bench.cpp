// Benchmark driver for scripts/bench.sh: prints one JSON object of timings (not a test).
//   cargovision_bench classifier [--arch resnet152] [--size 224] [--iterations 5] [--threads 0] [--work DIR]
//   cargovision_bench ocr-data [--iterations 30] [--work DIR]   (loader samples/s, batch 64, 32x100 grey)
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "cargovision/classify/checkpoint.h"
#include "cargovision/classify/evaluator.h"
#include "cargovision/core/app.h"
#include "cargovision/core/device.h"
#include "cargovision/core/logging.h"
#include "cargovision/models/backbone.h"
#include "cargovision/ocr/batch_loader.h"
#include "cargovision/ocr/create_lmdb.h"

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double inference_ms_per_image(torch::nn::AnyModule& model, int64_t batch, int64_t size, int iterations) {
  torch::InferenceMode guard;
  const auto input = torch::randn({batch, 3, size, size});
  model.forward(input);  // warm-up
  const auto start = Clock::now();
  for (int i = 0; i < iterations; ++i) model.forward(input);
  return 1000.0 * seconds_since(start) / static_cast<double>(iterations * batch);
}

double training_samples_per_second(torch::nn::AnyModule& model, torch::nn::Module& module, int64_t batch, int64_t size,
                                   int iterations) {
  module.train();
  torch::optim::Adam optimizer(module.parameters(), torch::optim::AdamOptions(2e-5).eps(1e-7));
  const auto input = torch::randn({batch, 3, size, size});
  const auto target = torch::randint(0, 1000, {batch}, torch::kLong);
  auto step = [&] {
    optimizer.zero_grad();
    auto loss = torch::cross_entropy_loss(model.forward(input), target);
    loss.backward();
    optimizer.step();
  };
  step();  // warm-up
  const auto start = Clock::now();
  for (int i = 0; i < iterations; ++i) step();
  return static_cast<double>(iterations * batch) / seconds_since(start);
}

// `test` on a folder of JPEGs against the model alone, to bound the loader's overhead.
nlohmann::json folder_overhead(const std::string& arch, int64_t size, const std::filesystem::path& work, int images) {
  namespace fs = std::filesystem;
  fs::create_directories(work / "folder" / "0");
  fs::create_directories(work / "folder" / "1");
  cv::RNG rng(1);
  for (int i = 0; i < images; ++i) {
    cv::Mat image(480, 640, CV_8UC3);
    rng.fill(image, cv::RNG::UNIFORM, 0, 255);
    cv::imwrite((work / "folder" / std::to_string(i % 2) / (std::to_string(i) + ".jpg")).string(), image);
  }
  cargovision::CargoClassifier model(cargovision::CargoClassifierOptions{arch, 16, 0.25});
  cargovision::ClassifierSidecar sidecar;
  sidecar.backbone = arch;
  sidecar.dense = 16;
  sidecar.image_size = static_cast<int>(size);
  sidecar.class_names = {"0", "1"};
  const auto checkpoint = (work / "bench.pt").string();
  cargovision::save_classifier_checkpoint(*model, sidecar, checkpoint);
  cargovision::TestOptions options;
  options.checkpoint = checkpoint;
  options.test_dir = (work / "folder").string();
  options.output = (work / "report.csv").string();
  options.batch_size = 16;
  const auto summary = cargovision::test_classifier(options);
  return {{"test_model_ms_per_image", summary.model_ms_per_image},
          {"test_total_ms_per_image", summary.total_ms_per_image},
          {"test_overhead_ratio", summary.total_ms_per_image / summary.model_ms_per_image}};
}

}  // namespace

// An LMDB of varied text crops (widths 60-220, heights 20-48), made once per work folder.
std::string ocr_bench_lmdb(const std::filesystem::path& work, int samples) {
  namespace fs = std::filesystem;
  const fs::path lmdb = work / "ocr_lmdb";
  if (fs::exists(lmdb / "data.mdb")) return lmdb.string();
  const fs::path crops = work / "ocr_crops";
  fs::create_directories(crops);
  cv::RNG rng(7);
  std::ofstream gt(crops / "gt.txt");
  for (int i = 0; i < samples; ++i) {
    cv::Mat crop(rng.uniform(20, 49), rng.uniform(60, 221), CV_8UC3);
    rng.fill(crop, cv::RNG::UNIFORM, 60, 200);
    const std::string label = std::to_string(rng.uniform(1000, 9999)) + "S" + std::to_string(rng.uniform(10, 99));
    cv::putText(crop, label, {2, crop.rows - 4}, cv::FONT_HERSHEY_SIMPLEX, crop.rows / 40.0, cv::Scalar(255, 255, 255), 2);
    const std::string name = "c" + std::to_string(i) + ".jpg";
    cv::imwrite((crops / name).string(), crop);
    gt << name << '\t' << label << '\n';
  }
  gt.close();
  cargovision::create_lmdb_dataset(crops.string(), (crops / "gt.txt").string(), lmdb.string(), true);
  return lmdb.string();
}

nlohmann::json ocr_loader_rates(const std::string& work, int batches) {
  const std::string lmdb = ocr_bench_lmdb(work, 2048);
  nlohmann::json result{{"lmdb", lmdb}, {"batch_size", 64}};
  for (int workers : {1, 2}) {
    cargovision::OcrDataOptions options;
    options.train_data = lmdb;
    options.select_data = "/";
    options.batch_ratio = "1";
    options.batch_size = 64;
    options.workers = workers;
    cargovision::BatchBalancedLoader loader(options, 1111);
    for (int i = 0; i < 2; ++i) loader.next();  // warm-up: page cache, threads
    const auto start = Clock::now();
    for (int i = 0; i < batches; ++i) loader.next();
    result["samples_per_s_" + std::to_string(workers) + "_threads"] = batches * 64 / seconds_since(start);
  }
  return result;
}

int main(int argc, char** argv) {
  return cargovision::run_guarded([&] {
    std::string task = "classifier";
    std::string arch = "resnet152";
    int64_t size = 224;
    int iterations = 5;
    int threads = 0;
    int folder_images = 64;
    std::string work = "build/bench_work";
    CLI::App app{"cargovision benchmark driver (see scripts/bench.sh)"};
    app.add_option("task", task, "classifier | ocr-data")->check(CLI::IsMember({"classifier", "ocr-data"}));
    app.add_option("--arch", arch, "backbone")->capture_default_str();
    app.add_option("--size", size, "input size")->capture_default_str();
    app.add_option("--iterations", iterations, "timed iterations")->capture_default_str();
    app.add_option("--threads", threads, "LibTorch threads (0 = cores)")->capture_default_str();
    app.add_option("--folder-images", folder_images, "images for the test-folder overhead run")->capture_default_str();
    app.add_option("--work", work, "scratch folder")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    cargovision::setup_logging("warn");
    if (task == "ocr-data") {
      std::cout << ocr_loader_rates(work, iterations).dump() << std::endl;
      return 0;
    }
    nlohmann::json result{{"arch", arch}, {"size", size}, {"threads", cargovision::configure_threads(threads)}};
    torch::manual_seed(0);
    auto backbone = cargovision::models::make_backbone(arch, 1000);
    backbone.pointer->eval();
    result["infer_ms_per_image_b1"] = inference_ms_per_image(backbone.module, 1, size, iterations);
    result["infer_ms_per_image_b32"] = inference_ms_per_image(backbone.module, 32, size, std::max(1, iterations / 3));
    result["train_samples_per_s_b8"] = training_samples_per_second(backbone.module, *backbone.pointer, 8, size,
                                                                   std::max(1, iterations / 2));
    result.update(folder_overhead(arch, size, work, folder_images));
    std::cout << result.dump() << std::endl;
    return 0;
  });
}
