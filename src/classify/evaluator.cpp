#include "cargovision/classify/evaluator.h"

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "cargovision/classify/checkpoint.h"
#include "cargovision/classify/grad_cam.h"
#include "cargovision/classify/html_report.h"
#include "cargovision/core/atomic_file.h"
#include "cargovision/core/device.h"
#include "cargovision/core/error.h"
#include "cargovision/core/interrupt.h"
#include "cargovision/core/progress.h"
#include "cargovision/core/thread_pool.h"
#include "cargovision/classify/image_batch_loader.h"
#include "cargovision/io/image_reader.h"
#include "cargovision/io/json_file.h"
#include "cargovision/models/fast_kernels.h"
#include "cargovision/report/heat_map.h"
#include "cargovision/report/html.h"

namespace cargovision {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// Relabels the folder's samples with the checkpoint's class indices (matched by folder name).
std::vector<ImageSample> relabel(const ImageFolder& folder, const std::vector<std::string>& checkpoint_classes) {
  std::vector<ImageSample> samples = folder.samples;
  for (auto& sample : samples) {
    if (sample.label < 0) continue;
    const std::string& name = folder.class_names[static_cast<size_t>(sample.label)];
    const auto found = std::find(checkpoint_classes.begin(), checkpoint_classes.end(), name);
    if (found == checkpoint_classes.end()) {
      throw Error(fmt::format("{}: class folder '{}' is not one of the checkpoint's classes ({})", folder.root, name,
                              fmt::format("{}, {}", checkpoint_classes[0], checkpoint_classes[1])));
    }
    sample.label = static_cast<int>(found - checkpoint_classes.begin());
  }
  return samples;
}

void synchronize(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index() < 0 ? -1 : device.index());
}

// Thumbnails keep report.html near 10 MB for a thousand images with heat maps.
constexpr int kThumbnailSide = 112;
constexpr int kThumbnailQuality = 70;

// The image's thumbnail and, given a heat map [h, w], its Grad-CAM overlay, as data URIs. The image is
// decoded again (the loader hands out normalised tensors); should that fail now, a grey square stands in.
ClassifierReportImage report_image(const ImageSample& sample, PredictionRow row, const torch::Tensor& heat) {
  cv::Mat bgr;
  try {
    cv::cvtColor(read_rgb_image(sample.path), bgr, cv::COLOR_RGB2BGR);
    bgr = report::fit_within(bgr, kThumbnailSide);
  } catch (const ImageReadError& e) {
    spdlog::warn("report.html: {}; a blank thumbnail stands in", e.what());
    bgr = cv::Mat(kThumbnailSide, kThumbnailSide, CV_8UC3, cv::Scalar(200, 200, 200));
  }
  ClassifierReportImage image{std::move(row), report::jpeg_data_uri(bgr, kThumbnailQuality), ""};
  if (heat.defined()) {
    const torch::Tensor map = heat.contiguous();
    const cv::Mat heat_map(static_cast<int>(map.size(0)), static_cast<int>(map.size(1)), CV_32FC1, map.data_ptr<float>());
    image.heat_map_uri = report::jpeg_data_uri(report::overlay_heat_map(bgr, heat_map), kThumbnailQuality);
  }
  return image;
}

}  // namespace

TestSummary test_classifier(const TestOptions& options) {
  validate(options);
  const c10::Device device = parse_device(options.device);
  configure_threads(options.threads);
  models::use_kernels(options.kernels);
  LoadedClassifier loaded = load_classifier_checkpoint(options.checkpoint);
  const ClassifierSidecar& sidecar = loaded.sidecar;
  CargoClassifier model = loaded.model;
  model->to(device);
  model->eval();

  const ImageFolder folder = scan_image_folder(options.test_dir, FolderLayout::kClassSubfoldersOrFlat);
  const bool has_truth = !folder.class_names.empty();
  ImagePipeline pipeline{sidecar.image_size, parse_resize_method(sidecar.resize),
                         parse_normalization(sidecar.normalization), false, AugmentFlavour::kLegacy};
  BatchLoaderOptions loader_options;
  loader_options.batch_size = static_cast<std::size_t>(options.batch_size);
  loader_options.workers = static_cast<std::size_t>(options.workers);
  ImageBatchLoader loader(relabel(folder, sidecar.class_names), pipeline, loader_options);
  spdlog::info("testing {} ({} epoch {}, val_loss {:.4f}) on {} images in {}{}", options.checkpoint, sidecar.backbone,
               sidecar.epoch, sidecar.val_loss, loader.size(), options.test_dir,
               has_truth ? "" : " (flat folder: no ground truth)");

  torch::InferenceMode inference;
  models::PackedWeightsScope packed_weights;
  {
    // Warm-up: the first pass allocates and picks kernels; it is excluded from the timing.
    const auto warm_batch = std::min<int64_t>(options.batch_size, static_cast<int64_t>(loader.size()));
    model->forward(torch::zeros({warm_batch, 3, sidecar.image_size, sidecar.image_size}).to(device));
    synchronize(device);
  }

  TestSummary summary;
  ClassifierReport report;
  ThreadPool thumbnail_pool(static_cast<std::size_t>(std::max(1, options.workers)));
  std::vector<int> truth;
  std::vector<int> predicted;
  double model_seconds = 0;
  const auto started = Clock::now();
  loader.start_epoch(0);
  ProgressLine progress("test", static_cast<std::int64_t>(loader.size()), "img");
  install_interrupt_handler();
  while (auto batch = loader.next()) {
    const auto images = batch->images.to(device);
    const auto forward_start = Clock::now();
    const auto features = model->features(images);
    const auto probabilities = torch::sigmoid(model->head(features)).to(torch::kCPU);
    synchronize(device);
    model_seconds += std::chrono::duration<double>(Clock::now() - forward_start).count();
    // Outside the timing: the heat maps are for the report, not part of a prediction.
    torch::Tensor heat;
    if (options.cam) heat = grad_cam(model, features, probabilities > options.threshold).to(torch::kCPU);
    const auto probability = probabilities.accessor<float, 1>();
    const std::size_t first_row = summary.rows.size();
    for (size_t i = 0; i < batch->indices.size(); ++i) {
      const ImageSample& sample = loader.samples()[batch->indices[i]];
      const int prediction = probability[static_cast<int64_t>(i)] > options.threshold ? 1 : 0;
      PredictionRow row;
      row.image = sample.relative;
      row.prediction = sidecar.class_names[static_cast<size_t>(prediction)];
      row.probability = probability[static_cast<int64_t>(i)];
      if (sample.label >= 0) {
        row.ground_truth = sidecar.class_names[static_cast<size_t>(sample.label)];
        truth.push_back(sample.label);
        predicted.push_back(prediction);
      }
      summary.rows.push_back(std::move(row));
    }
    report.images.resize(summary.rows.size());
    thumbnail_pool.parallel_for(batch->indices.size(), [&](std::size_t i) {
      const ImageSample& sample = loader.samples()[batch->indices[i]];
      report.images[first_row + i] = report_image(sample, summary.rows[first_row + i],
                                                  heat.defined() ? heat[static_cast<int64_t>(i)] : torch::Tensor());
    });
    progress.advance(static_cast<std::int64_t>(batch->attempted));
    if (interrupt_requested()) {
      throw Interrupted(fmt::format("stopped after {} of {} images; no report was written", summary.rows.size(),
                                    loader.size()));
    }
  }
  progress.finish();
  const double total_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  summary.unreadable_images = loader.unreadable().size();
  if (summary.rows.empty()) throw Error(options.test_dir + ": none of the images could be read");
  const auto processed = static_cast<double>(summary.rows.size());
  summary.model_ms_per_image = 1000.0 * model_seconds / processed;
  summary.total_ms_per_image = 1000.0 * total_seconds / processed;
  if (has_truth) summary.metrics = compute_binary_metrics(truth, predicted);

  // An existing folder (or a path ending in '/') names where the report goes, not the report itself.
  const bool output_is_folder =
      !options.output.empty() && (fs::is_directory(options.output) || options.output.back() == '/');
  summary.report_path = options.output.empty()
                            ? (fs::path(options.checkpoint).parent_path() / "test_report.csv").string()
                        : output_is_folder ? (fs::path(options.output) / "test_report.csv").string()
                                           : options.output;
  const fs::path report_dir = fs::path(summary.report_path).parent_path();
  summary.metrics_path = (report_dir / "metrics.json").string();
  std::optional<double> accuracy;
  if (summary.metrics) accuracy = summary.metrics->accuracy();
  write_file_atomically(summary.report_path, format_test_report(summary.rows, accuracy, summary.model_ms_per_image));

  nlohmann::json metrics = summary.metrics ? summary.metrics->to_json() : nlohmann::json{{"images", summary.rows.size()}};
  metrics["threshold"] = options.threshold;
  metrics["unreadable_images"] = summary.unreadable_images;
  metrics["model_ms_per_image"] = summary.model_ms_per_image;
  metrics["total_ms_per_image"] = summary.total_ms_per_image;
  metrics["checkpoint"] = options.checkpoint;
  metrics["test_dir"] = options.test_dir;
  write_json_file(summary.metrics_path, metrics);
  write_json_file((report_dir / "test_options.json").string(), nlohmann::json(options));

  report.checkpoint = options.checkpoint;
  report.test_dir = options.test_dir;
  report.backbone = sidecar.backbone;
  report.class_names = sidecar.class_names;
  report.threshold = options.threshold;
  report.metrics = summary.metrics;
  report.model_ms_per_image = summary.model_ms_per_image;
  report.total_ms_per_image = summary.total_ms_per_image;
  report.unreadable_images = summary.unreadable_images;
  summary.html_path = (report_dir / "report.html").string();
  write_file_atomically(summary.html_path, format_classifier_report_html(report));
  return summary;
}

}  // namespace cargovision
