// train_ocr: trains or fine-tunes the scene-text recognizer, as the original train.py.
#include <spdlog/spdlog.h>

#include <filesystem>

#include "cargovision/core/app.h"
#include "cargovision/core/device.h"
#include "cargovision/distributed/cli.h"
#include "cargovision/distributed/process_group.h"
#include "cargovision/ocr/cli.h"
#include "cargovision/ocr/trainer.h"

int main(int argc, char** argv) {
  return cargovision::run_guarded([&] {
    cargovision::ocr::OcrTrainOptions options;
    std::string config = cargovision::find_config_argument(argc, argv);
    if (!config.empty()) options = cargovision::ocr::load_ocr_train_options(config);

    CLI::App app{"Train the wagon/container code recognizer (Baek et al. 2019: Transformation-FeatureExtraction-"
                 "SequenceModeling-Prediction) on LMDB datasets with ratio-mixed batches. Writes "
                 "<saved_models_dir>/<exp_name>/{opt.txt,log_dataset.txt,log_train.txt,best_accuracy.pth,best_norm_ED.pth}. "
                 "Under torchrun or scripts/launch.sh N, one rank of a data-parallel run."};
    app.get_formatter()->column_width(36);
    cargovision::ocr::add_ocr_train_options(app, options, config);
    cargovision::distributed::DistributedOptions distributed;
    cargovision::distributed::add_distributed_options(app, distributed);
    CLI11_PARSE(app, argc, argv);
    cargovision::ocr::finalize(options);

    options.device = cargovision::distributed::device_for_rank(options.device);
    const auto group = cargovision::distributed::join_from_environment(distributed, cargovision::parse_device(options.device));
    const auto run_dir = std::filesystem::path(options.saved_models_dir) / options.exp_name;
    if (!group || group->is_main()) std::filesystem::create_directories(run_dir);
    cargovision::distributed::setup_rank_logging(group.get(), options.log_level, (run_dir / "train.log").string());
    const auto summary = cargovision::ocr::train_ocr(options, group.get());
    spdlog::info("finished at iteration {}{}: best accuracy {:.3f}, best norm_ED {:.4f} -> {}", summary.iterations_done,
                 summary.interrupted ? " (interrupted)" : "", summary.best_accuracy, summary.best_norm_ED, summary.run_dir);
    return summary.interrupted ? 130 : 0;
  });
}
