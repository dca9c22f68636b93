#include "cargovision/ocr/demo.h"

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "cargovision/core/atomic_file.h"
#include "cargovision/core/device.h"
#include "cargovision/core/error.h"
#include "cargovision/core/interrupt.h"
#include "cargovision/core/progress.h"
#include "cargovision/core/thread_pool.h"
#include "cargovision/data/pillow.h"
#include "cargovision/io/csv.h"
#include "cargovision/io/folder_walk.h"
#include "cargovision/io/image_reader.h"
#include "cargovision/models/fast_kernels.h"
#include "cargovision/ocr/align_collate.h"
#include "cargovision/ocr/checkpoint.h"
#include "cargovision/ocr/code_check.h"
#include "cargovision/ocr/reread.h"
#include "cargovision/ocr/create_lmdb.h"
#include "cargovision/ocr/html_report.h"
#include "cargovision/ocr/lmdb_dataset.h"
#include "cargovision/ocr/metrics.h"
#include "cargovision/ocr/recognize.h"
#include "cargovision/ocr/text.h"
#include "cargovision/report/html.h"

namespace cargovision::ocr {
namespace fs = std::filesystem;
namespace {

struct DemoItem {
  std::string name;  // path as shown (relative to the folder) or "lmdb:<index>"
  std::string ground_truth;
  bool has_ground_truth = false;
};

std::vector<DemoItem> list_folder(const std::string& folder) {
  require(fs::is_directory(folder), "{}: image folder does not exist", folder);
  std::vector<DemoItem> items;
  for (const auto& file : walk_folder(folder).files) {
    if (has_image_extension(file.filename().string())) {
      items.push_back({fs::relative(file, folder).generic_string(), "", false});
    }
  }
  std::sort(items.begin(), items.end(), [](const DemoItem& a, const DemoItem& b) { return natural_less(a.name, b.name); });
  require(!items.empty(), "{}: no images (png/jpg/jpeg/bmp/ppm/tif/tiff) in the folder", folder);
  return items;
}

void attach_ground_truth(std::vector<DemoItem>& items, const OcrDemoOptions& options) {
  std::map<std::string, const GtEntry*> by_path;
  const auto entries = read_gt_file(options.gt);
  for (const auto& entry : entries) {
    const auto length = decode_utf8(entry.label, options.gt).size();
    if (static_cast<int>(length) > options.batch_max_length) {
      // Still scored: the model reads at most batch_max_length characters, so this crop counts as wrong.
      spdlog::warn("{}:{}: label '{}' has {} characters, more than --batch_max_length {}: it cannot be read whole",
                   options.gt, entry.line, entry.label, length, options.batch_max_length);
    }
    by_path[fs::path(entry.image_path).lexically_normal().generic_string()] = &entry;
  }
  for (auto& item : items) {
    auto found = by_path.find(item.name);
    if (found == by_path.end()) found = by_path.find(fs::path(item.name).filename().string());
    if (found == by_path.end()) continue;
    item.ground_truth = found->second->label;
    item.has_ground_truth = true;
  }
}

// The crop as the model saw it: the aligned input [C, H, W] in [-1, 1] back to 8-bit grey or BGR.
cv::Mat model_input_image(const torch::Tensor& input) {
  const torch::Tensor pixels =
      input.mul(0.5).add(0.5).mul(255.0).round().clamp(0, 255).to(torch::kUInt8).permute({1, 2, 0}).contiguous();
  const int channels = static_cast<int>(pixels.size(2));
  cv::Mat image(static_cast<int>(pixels.size(0)), static_cast<int>(pixels.size(1)), CV_8UC(channels), pixels.data_ptr());
  cv::Mat out;
  if (channels == 3) cv::cvtColor(image, out, cv::COLOR_RGB2BGR);
  else out = image.clone();
  return out;
}

cv::Mat as_read_image(const cv::Mat& crop) {
  cv::Mat out;
  if (crop.channels() == 3) cv::cvtColor(crop, out, cv::COLOR_RGB2BGR);
  else out = crop;
  return report::fit_within(out, 240);
}

}  // namespace

bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
      std::size_t i_end = i, j_end = j;
      while (i_end < a.size() && std::isdigit(static_cast<unsigned char>(a[i_end]))) ++i_end;
      while (j_end < b.size() && std::isdigit(static_cast<unsigned char>(b[j_end]))) ++j_end;
      std::string x = a.substr(i, i_end - i), y = b.substr(j, j_end - j);
      x.erase(0, std::min(x.find_first_not_of('0'), x.size()));
      y.erase(0, std::min(y.find_first_not_of('0'), y.size()));
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = i_end;
      j = j_end;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

OcrDemoSummary demo_ocr(const OcrDemoOptions& options) {
  const c10::Device device = parse_device(options.device);
  configure_threads(options.threads);
  models::use_kernels(options.kernels);
  const OcrDataOptions data = data_options(options);
  std::vector<DemoItem> items;
  std::shared_ptr<ConcatDataset> lmdb;
  if (!options.lmdb.empty()) {
    lmdb = std::make_shared<ConcatDataset>(hierarchical_dataset(options.lmdb, data).dataset);
    for (std::size_t i = 0; i < lmdb->size(); ++i) items.push_back({fmt::format("lmdb:{}", i + 1), "", true});
  } else {
    items = list_folder(options.image_folder);
    if (!options.gt.empty()) attach_ground_truth(items, options);
  }
  // The model is loaded after the inputs are checked, so a wrong folder or gt file fails fast.
  const auto converter = make_converter(options.Prediction, options.character);
  const CodeCheck code_check = parse_code_check(options.code_check);
  OcrModel model(model_options(options, converter->num_class()));
  load_ocr_checkpoint(*model, options.saved_model, /*fine_tune=*/false);
  model->to(device);
  model->eval();

  const AlignCollateOptions collate{options.imgH, options.imgW, options.PAD};
  const int channels = options.rgb ? 3 : 1;
  ThreadPool pool(static_cast<std::size_t>(std::max(0, options.workers)));
  OcrDemoSummary summary;
  OcrReport report;
  std::vector<std::vector<std::string>> rows;
  const bool with_gt = std::any_of(items.begin(), items.end(), [](const DemoItem& i) { return i.has_ground_truth; });
  // The same rules as train_ocr's validation, so both report the same accuracy on the same crops.
  const ScoringRules scoring{options.sensitive, options.data_filtering_off,
                                  decode_utf8(options.character, "--character")};
  const std::string dashes(80, '-');
  std::string log = fmt::format("{}\n{:25s}\t{:25s}\tconfidence score\n{}\n", dashes, "image_path", "predicted_labels", dashes);
  double model_seconds = 0.0, char_accuracy_sum = 0.0;
  std::size_t timed_images = 0, batches = 0;
  ProgressLine progress("demo_ocr", static_cast<std::int64_t>(items.size()), "img");
  torch::NoGradGuard no_grad;
  models::PackedWeightsScope packed_weights;  // the weights stay put for the whole run
  install_interrupt_handler();
  for (std::size_t start = 0; start < items.size(); start += static_cast<std::size_t>(options.batch_size)) {
    if (interrupt_requested()) {
      throw Interrupted(fmt::format("stopped after {} of {} crops; no report was written", start, items.size()));
    }
    const std::size_t end = std::min(items.size(), start + static_cast<std::size_t>(options.batch_size));
    std::vector<cv::Mat> crops(end - start);
    std::vector<char> readable(end - start, 1);
    pool.parallel_for(end - start, [&](std::size_t k) {
      DemoItem& item = items[start + k];
      if (lmdb) {
        OcrSample sample = lmdb->get(start + k);
        crops[k] = sample.image;
        item.ground_truth = sample.label;
        return;
      }
      try {
        const cv::Mat rgb = read_rgb_image((fs::path(options.image_folder) / item.name).string());
        crops[k] = options.rgb ? rgb : rgb_to_grey_pillow(rgb);
      } catch (const ImageReadError& e) {
        spdlog::warn("{}; skipped", e.what());
        readable[k] = 0;
      }
    });
    std::vector<std::size_t> kept;
    for (std::size_t k = 0; k < crops.size(); ++k) {
      if (readable[k]) kept.push_back(k);
      else ++summary.unreadable;
    }
    progress.advance(static_cast<std::int64_t>(end - start));
    if (kept.empty()) continue;
    auto images = torch::empty({static_cast<long>(kept.size()), channels, options.imgH, options.imgW});
    pool.parallel_for(kept.size(), [&](std::size_t k) { align_into(crops[kept[k]], collate, images[static_cast<long>(k)]); });
    const auto t0 = std::chrono::steady_clock::now();
    // Nothing after [s] is shown, so decoding may stop there (validation cannot: its loss needs every step).
    auto recognition = recognize(model, *converter, images.to(device), /*stop_when_all_ended=*/true);
    std::vector<cv::Mat> read_crops;
    for (const std::size_t k : kept) read_crops.push_back(crops[k]);
    const CropReader read_as_is = [&](const std::vector<cv::Mat>& bands) {
      auto band_images = torch::empty({static_cast<long>(bands.size()), channels, options.imgH, options.imgW});
      pool.parallel_for(bands.size(), [&](std::size_t k) { align_into(bands[k], collate, band_images[static_cast<long>(k)]); });
      return recognize_in_slices(model, *converter, band_images.to(device), options.batch_size,
                                 /*stop_when_all_ended=*/true);
    };
    summary.repaired += apply_code_check(recognition, code_check, options.character, options.Prediction == "CTC",
                                         read_crops, read_as_is);
    // Uncertain crops are read again as the first time: read, then checked.
    summary.reread += reread_uncertain(recognition, read_crops, options.reread_below,
                                       checked_reader(read_as_is, code_check, options.character, options.Prediction == "CTC"));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (batches++ > 0 || end == items.size()) {  // the first batch warms up, unless it is the only one
      model_seconds += seconds;
      timed_images += kept.size();
    }
    const std::size_t first_crop = report.crops.size();
    if (options.report) report.crops.resize(first_crop + kept.size());
    for (std::size_t k = 0; k < kept.size(); ++k) {
      const DemoItem& item = items[start + kept[k]];
      const std::string& pred = recognition.predictions[k];
      const double confidence = recognition.confidence[k];
      OcrReportCrop* crop = options.report ? &report.crops[first_crop + k] : nullptr;
      if (crop) {
        crop->name = item.name;
        crop->prediction = pred;
        crop->confidence = confidence;
      }
      log += fmt::format("{:25s}\t{:25s}\t{:0.4f}\n", item.name, pred, confidence);
      std::vector<std::string> row{item.name, pred, fmt::format("{:.4f}", confidence)};
      if (with_gt) {
        row.push_back(item.ground_truth);
        if (item.has_ground_truth) {
          const SampleScore score = score_prediction(pred, item.ground_truth, scoring);
          const bool correct = score.correct;
          const double char_accuracy = score.norm_ED;
          summary.correct += correct ? 1 : 0;
          ++summary.with_ground_truth;
          char_accuracy_sum += char_accuracy;
          row.push_back(correct ? "True" : "False");
          row.push_back(fmt::format("{:.4f}", char_accuracy));
          if (crop) {
            crop->ground_truth = item.ground_truth;
            crop->correct = correct;
            crop->norm_ED = char_accuracy;
            crop->compared_prediction = score.compared_prediction;
            crop->compared_ground_truth = score.compared_ground_truth;
          }
        } else {
          row.insert(row.end(), {"", ""});
        }
      }
      rows.push_back(std::move(row));
      ++summary.images;
    }
    if (options.report) {
      pool.parallel_for(kept.size(), [&](std::size_t k) {
        report.crops[first_crop + k].original_uri = report::jpeg_data_uri(as_read_image(crops[kept[k]]), 85);
        report.crops[first_crop + k].model_input_uri = report::png_data_uri(model_input_image(images[static_cast<long>(k)]));
      });
    }
  }
  progress.finish();
  if (summary.with_ground_truth > 0) summary.norm_ED = char_accuracy_sum / static_cast<double>(summary.with_ground_truth);
  summary.ms_per_image = timed_images > 0 ? 1000.0 * model_seconds / static_cast<double>(timed_images) : 0.0;

  fs::create_directories(options.output_dir);
  std::string csv = csv_line(with_gt ? std::vector<std::string>{"image_path", "predicted_label", "confidence", "GT", "correct", "char_accuracy"}
                                     : std::vector<std::string>{"image_path", "predicted_label", "confidence"}) ;
  for (const auto& row : rows) csv += csv_line(row);
  if (with_gt && summary.with_ground_truth > 0) {
    csv += csv_line({"Word Accuracy", fmt::format("{:.4f}", static_cast<double>(summary.correct) / summary.with_ground_truth),
                     "", "", "", fmt::format("{:.4f}", char_accuracy_sum / summary.with_ground_truth)});
  }
  csv += csv_line(with_gt ? std::vector<std::string>{"ms per image", fmt::format("{:.2f}", summary.ms_per_image), "", "", "", ""}
                          : std::vector<std::string>{"ms per image", fmt::format("{:.2f}", summary.ms_per_image), ""});
  summary.csv_path = (fs::path(options.output_dir) / "demo_result.csv").string();
  write_file_atomically(summary.csv_path, csv);
  std::ofstream(fs::path(options.output_dir) / "log_demo_result.txt", std::ios::app) << log;
  if (options.report) {
    report.saved_model = options.saved_model;
    report.source = lmdb ? options.lmdb : options.image_folder;
    report.model_description = fmt::format("{}-{}-{}-{}, {}x{}, {} classes", options.Transformation, options.FeatureExtraction,
                                           options.SequenceModeling, options.Prediction, options.imgH, options.imgW,
                                           converter->num_class());
    report.ms_per_image = summary.ms_per_image;
    report.unreadable = summary.unreadable;
    summary.html_path = (fs::path(options.output_dir) / "report.html").string();
    write_file_atomically(summary.html_path, format_ocr_report_html(report));
  }
  std::fputs(log.c_str(), stdout);
  return summary;
}

}  // namespace cargovision::ocr
