// cargovision_bench classifier: backbone speed against torchvision's numbers (scripts/bench_torchvision.py).
#include <torch/torch.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "bench_tasks.h"
#include "cargovision/classify/checkpoint.h"
#include "cargovision/classify/evaluator.h"
#include "cargovision/core/device.h"
#include "cargovision/models/backbone.h"
#include "cargovision/models/fast_kernels.h"

namespace cargovision::bench {
namespace {

double inference_ms_per_image(torch::nn::AnyModule& model, int64_t batch, int64_t size, int iterations) {
  torch::InferenceMode guard;
  models::PackedWeightsScope packed_weights;  // as `test` runs
  const auto input = torch::randn({batch, 3, size, size});
  return 1000.0 * median_seconds(iterations, [&] { model.forward(input); }) / static_cast<double>(batch);
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
  return static_cast<double>(batch) / median_seconds(iterations, step);
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
  CargoClassifier model(CargoClassifierOptions{arch, 16, 0.25});
  ClassifierSidecar sidecar;
  sidecar.backbone = arch;
  sidecar.dense = 16;
  sidecar.image_size = static_cast<int>(size);
  sidecar.class_names = {"0", "1"};
  const auto checkpoint = (work / "bench.pt").string();
  save_classifier_checkpoint(*model, sidecar, checkpoint);
  TestOptions options;
  options.checkpoint = checkpoint;
  options.test_dir = (work / "folder").string();
  options.output = (work / "report.csv").string();
  options.batch_size = 16;
  options.kernels = models::fast_kernels_enabled() ? "fast" : "libtorch";  // as the driver's --kernels
  const auto summary = test_classifier(options);
  return {{"test_model_ms_per_image", summary.model_ms_per_image},
          {"test_total_ms_per_image", summary.total_ms_per_image},
          {"test_overhead_ratio", summary.total_ms_per_image / summary.model_ms_per_image}};
}

}  // namespace

nlohmann::json classifier_bench(const std::string& arch, int64_t size, int iterations, int threads, int folder_images,
                                const std::string& work) {
  nlohmann::json result{{"arch", arch}, {"size", size}, {"threads", configure_threads(threads)}};
  torch::manual_seed(0);
  auto backbone = models::make_backbone(arch, 1000);
  backbone.pointer->eval();
  result["infer_ms_per_image_b1"] = inference_ms_per_image(backbone.module, 1, size, iterations);
  result["infer_ms_per_image_b32"] = inference_ms_per_image(backbone.module, 32, size, std::max(3, iterations / 3));
  result["train_samples_per_s_b8"] =
      training_samples_per_second(backbone.module, *backbone.pointer, 8, size, std::max(3, iterations / 2));
  result.update(folder_overhead(arch, size, work, folder_images));
  return result;
}

}  // namespace cargovision::bench
