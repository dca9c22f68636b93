// pack_ocr_model: turns a train_ocr checkpoint into a shippable recognizer (half-precision weights and
// the options file demo_ocr/train_ocr --config take), as data/models/codes_recognizer was made.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "cargovision/core/app.h"
#include "cargovision/core/logging.h"
#include "cargovision/ocr/shipped_model.h"

int main(int argc, char** argv) {
  return cargovision::run_guarded([&] {
    cargovision::ocr::PackOptions options;
    bool full_precision = false;
    CLI::App app{"Package a train_ocr checkpoint (with its .json sidecar), or the average of several, as <output>.pth "
                 "+ <output>.json: float16 weights (unless --float32) and the architecture/alphabet options, ready for "
                 "demo_ocr --config <output>.json --saved_model <output>.pth and train_ocr --FT."};
    app.add_option("--saved_model", options.checkpoints,
                   "train_ocr checkpoint (e.g. <run>/best_accuracy.pth); several (repeat the option or list them) "
                   "are averaged, e.g. a run's iter_<N>.pth from train_ocr --saveInterval")
      ->required();
    app.add_option("--output", options.output_stem, "output path without extension")->required();
    app.add_flag("--float32", full_precision, "keep float32 weights (twice the size)");
    CLI11_PARSE(app, argc, argv);
    cargovision::setup_logging("info", "");
    options.half = !full_precision;
    const std::size_t bytes = cargovision::ocr::pack_ocr_model(options);
    spdlog::info("wrote {}.pth ({:.1f} MB) and {}.json", options.output_stem, bytes / 1e6, options.output_stem);
    return 0;
  });
}
