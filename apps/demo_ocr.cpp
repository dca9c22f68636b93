// demo_ocr: reads a folder (or LMDB) of code crops with a trained recognizer, as the original demo.py.
#include <spdlog/spdlog.h>

#include "cargovision/core/app.h"
#include "cargovision/core/error.h"
#include "cargovision/core/logging.h"
#include "cargovision/ocr/cli.h"
#include "cargovision/ocr/demo.h"
#include "cargovision/ocr/shipped_model.h"

int main(int argc, char** argv) {
  return cargovision::run_guarded([&] {
    cargovision::ocr::OcrDemoOptions options;
    std::string config = cargovision::find_config_argument(argc, argv);
    // Without a model of their own, users read with the shipped recognizer and its options; where it is
    // missing, the error says where it was looked for (after parsing, so --help still works).
    std::string shipped_model_missing;
    if (config.empty() && cargovision::find_option_argument(argc, argv, "--saved_model").empty()) {
      try {
        options = cargovision::ocr::shipped_demo_options();
      } catch (const cargovision::Error& e) {
        shipped_model_missing = e.what();
      }
    }
    if (!config.empty()) options = cargovision::ocr::load_ocr_demo_options(config);

    CLI::App app{"Recognize every crop of --image_folder (or --lmdb) with a recognizer checkpoint; prints and writes "
                 "demo_result.csv (image_path,predicted_label,confidence[,GT,correct,char_accuracy]) and "
                 "log_demo_result.txt, and report.html (every crop, differences from the GT, errors first). The architecture options must match the checkpoint's. Without --saved_model and "
                 "--config it reads with the shipped recognizer (data/models/codes_recognizer)."};
    app.get_formatter()->column_width(36);
    cargovision::ocr::add_ocr_demo_options(app, options, config);
    CLI11_PARSE(app, argc, argv);
    if (options.saved_model.empty() && !shipped_model_missing.empty()) {
      throw cargovision::Error("--saved_model is required (" + shipped_model_missing + ")");
    }
    cargovision::ocr::finalize(options);
    cargovision::setup_logging(options.log_level, "");

    const auto summary = cargovision::ocr::demo_ocr(options);
    if (summary.with_ground_truth > 0) {
      spdlog::info("word accuracy {:.4f} ({}/{})", static_cast<double>(summary.correct) / summary.with_ground_truth,
                   summary.correct, summary.with_ground_truth);
    }
    spdlog::info("{} image(s), {:.2f} ms/image (reading){} -> {}", summary.images, summary.ms_per_image,
                 summary.unreadable > 0 ? fmt::format(", {} unreadable skipped", summary.unreadable) : "", summary.csv_path);
    if (summary.repaired > 0) {
      spdlog::info("{} reading(s) changed by --code_check iso6346 (stacked lines read one by one, or repaired by the check digit)",
                   summary.repaired);
    }
    if (summary.reread > 0) {
      spdlog::info("{} reading(s) changed by reading uncertain crops again (--reread_below {})", summary.reread,
                   options.reread_below);
    }
    if (!summary.html_path.empty()) spdlog::info("report page: {}", summary.html_path);
    return 0;
  });
}
