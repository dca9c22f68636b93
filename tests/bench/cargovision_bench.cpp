// Benchmark driver for scripts/bench.sh: prints one JSON object of timings (not a test).
//   cargovision_bench classifier [--arch resnet152] [--size 224] [--iterations 5] [--threads 0] [--work DIR]
//   cargovision_bench ocr-data [--iterations 30] [--work DIR]   (loader samples/s, batch 64, 32x100 grey)
//   cargovision_bench ocr-stream [--iterations 20] [--work DIR]   (training fed by the generator vs an LMDB)
//   cargovision_bench ocr [--iterations 20] [--models TPS-ResNet-BiLSTM-Attn,None-VGG-BiLSTM-CTC] [--export-onnx DIR]
// Every task takes --kernels fast|libtorch, as the apps do.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include "bench_tasks.h"
#include "cargovision/core/app.h"
#include "cargovision/core/device.h"
#include "cargovision/core/logging.h"
#include "cargovision/models/fast_kernels.h"

int main(int argc, char** argv) {
  return cargovision::run_guarded([&] {
    std::string task = "classifier";
    std::string arch = "resnet152";
    int64_t size = 224;
    int iterations = 5;
    int threads = 0;
    int folder_images = 64;
    std::vector<std::string> models{"TPS-ResNet-BiLSTM-Attn", "None-VGG-BiLSTM-CTC"};
    std::string work = "build/bench_work";
    std::string kernels = "fast";
    std::string export_onnx;
    CLI::App app{"cargovision benchmark driver (see scripts/bench.sh)"};
    app.add_option("task", task, "classifier | ocr-data | ocr-stream | ocr")
        ->check(CLI::IsMember({"classifier", "ocr-data", "ocr-stream", "ocr"}));
    app.add_option("--arch", arch, "classifier backbone")->capture_default_str();
    app.add_option("--size", size, "classifier input size")->capture_default_str();
    app.add_option("--iterations", iterations, "timed iterations")->capture_default_str();
    app.add_option("--threads", threads, "LibTorch threads (0 = cores)")->capture_default_str();
    app.add_option("--folder-images", folder_images, "images for the test-folder overhead run")->capture_default_str();
    app.add_option("--models", models, "recognizers for the ocr task")->delimiter(',')->capture_default_str();
    app.add_option("--work", work, "scratch folder")->capture_default_str();
    app.add_option("--export-onnx", export_onnx, "ocr task: also write each model as DIR/<name>.onnx");
    app.add_option("--kernels", kernels, cargovision::models::kKernelsHelp)->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    cargovision::setup_logging("warn");
    cargovision::models::use_kernels(kernels);
    nlohmann::json result;
    if (task == "ocr-data") {
      result = cargovision::bench::ocr_data_bench(work, iterations);
    } else if (task == "ocr-stream") {
      cargovision::configure_threads(threads);
      result = cargovision::bench::ocr_stream_bench(work, iterations);
    } else if (task == "ocr") {
      cargovision::configure_threads(threads);
      if (!export_onnx.empty()) std::filesystem::create_directories(export_onnx);
      result = cargovision::bench::ocr_model_bench(models, iterations, export_onnx);
    } else {
      result = cargovision::bench::classifier_bench(arch, size, iterations, threads, folder_images, work);
    }
    std::cout << result.dump() << std::endl;
    return 0;
  });
}
