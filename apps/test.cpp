// test: predicts a test folder with a trained cargo classifier and writes the seed's CSV report.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cargovision/classify/cli.h"
#include "cargovision/classify/evaluator.h"
#include "cargovision/core/app.h"
#include "cargovision/core/logging.h"

int main(int argc, char** argv) {
  return cargovision::run_guarded([&] {
    cargovision::TestOptions options;
    std::string config = cargovision::find_config_argument(argc, argv);
    if (!config.empty()) options = cargovision::load_test_options(config);

    CLI::App app{"Predict every image of a test folder with a cargo classifier checkpoint; writes the CSV report "
                 "(Image list, GT, Prediction, accuracy, probability; Average Accuracy; Inference Speed(ms)) and "
                 "metrics.json (precision, recall, F1, confusion matrix) and report.html (every image with its prediction and "
                 "Grad-CAM heat map, errors first)."};
    app.get_formatter()->column_width(42);
    cargovision::add_test_options(app, options, config);
    CLI11_PARSE(app, argc, argv);
    cargovision::setup_logging(options.log_level);

    const auto summary = cargovision::test_classifier(options);
    if (summary.metrics) {
      const auto& m = *summary.metrics;
      spdlog::info("Average Accuracy {:.4f} ({}/{})  precision {:.4f}  recall {:.4f}  F1 {:.4f}", m.accuracy(),
                   m.true_positive + m.true_negative, m.total(), m.precision(), m.recall(), m.f1());
      spdlog::info("confusion matrix (rows = truth 0/1, columns = prediction 0/1): [[{}, {}], [{}, {}]]",
                   m.true_negative, m.false_positive, m.false_negative, m.true_positive);
    }
    spdlog::info("Inference Speed {:.2f} ms/image (model), {:.2f} ms/image (with decoding)", summary.model_ms_per_image,
                 summary.total_ms_per_image);
    if (summary.unreadable_images > 0) spdlog::warn("{} unreadable image(s) were skipped", summary.unreadable_images);
    spdlog::info("report: {}  metrics: {}  page: {}", summary.report_path, summary.metrics_path, summary.html_path);
    return 0;
  });
}
