// preprocess: trains the cargo classifier (loaded vs empty) on a folder of class sub-folders.
#include <spdlog/spdlog.h>

#include <filesystem>

#include "cargovision/classify/cli.h"
#include "cargovision/classify/trainer.h"
#include "cargovision/core/app.h"
#include "cargovision/core/device.h"
#include "cargovision/core/error.h"
#include "cargovision/distributed/cli.h"
#include "cargovision/distributed/process_group.h"

int main(int argc, char** argv) {
  return cargovision::run_guarded([&] {
    cargovision::TrainOptions options;
    std::string config = cargovision::find_config_argument(argc, argv);
    // A resumed run takes its own options.json; the command line can still change them (e.g. --epochs).
    const std::string resume = cargovision::find_option_argument(argc, argv, "--resume");
    if (!resume.empty()) {
      if (!config.empty()) throw cargovision::Error("give --resume or --config, not both");
      options = cargovision::load_train_options((std::filesystem::path(resume) / "options.json").string());
    } else if (!config.empty()) {
      options = cargovision::load_train_options(config);
    }

    CLI::App app{"Train the cargo classifier (0 = empty, 1 = loaded) by transfer learning, as the seed's Keras "
                 "preprocess.py: augmentation, validation split, class weights, best-val_loss checkpoint, early stopping. "
                 "Under torchrun or scripts/launch.sh N, one rank of a data-parallel run."};
    app.get_formatter()->column_width(42);
    cargovision::add_train_options(app, options, config);
    cargovision::distributed::DistributedOptions distributed;
    cargovision::distributed::add_distributed_options(app, distributed);
    CLI11_PARSE(app, argc, argv);
    if (!options.resume.empty()) options.output_dir = options.resume;

    options.device = cargovision::distributed::device_for_rank(options.device);
    const auto group = cargovision::distributed::join_from_environment(distributed, cargovision::parse_device(options.device));
    if (!group || group->is_main()) std::filesystem::create_directories(options.output_dir);
    cargovision::distributed::setup_rank_logging(group.get(), options.log_level,
                                                 (std::filesystem::path(options.output_dir) / "train.log").string());
    const auto summary = cargovision::train_classifier(options, group.get());

    spdlog::info("finished after {} epoch(s){}{}", summary.epochs_run, summary.stopped_early ? " (early stopping)" : "",
                 summary.interrupted ? " (interrupted)" : "");
    if (!summary.best_checkpoint.empty()) {
      spdlog::info("best: epoch {} val_loss {:.5f} -> {}", summary.best_epoch, summary.best_val_loss,
                   summary.best_checkpoint);
    }
    if (summary.unreadable_images > 0) spdlog::warn("{} unreadable image(s) were skipped", summary.unreadable_images);
    return summary.interrupted ? 130 : 0;
  });
}
