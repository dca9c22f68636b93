#include "cargovision/classify/options.h"

#include "cargovision/core/error.h"
#include "cargovision/io/json_file.h"
#include "cargovision/models/fast_kernels.h"

namespace cargovision {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AugmentOptions, enabled, rotation_range, width_shift_range,
                                                height_shift_range, shear_range, zoom_range, brightness_range,
                                                horizontal_flip, flavour)

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TrainOptions, train_dir, output_dir, backbone, weights, dense, dropout,
                                                image_size, resize, normalize, batch_size, epochs, lr, adam_epsilon,
                                                freeze_epochs, patience, validation_split, class_weights, seed,
                                                workers, threads, device, kernels, log_level,
                                                augmentation)

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TestOptions, checkpoint, test_dir, output, threshold, batch_size,
                                                workers, threads, device, kernels, cam, log_level)


TrainOptions load_train_options(const std::string& path) { return load_options_file<TrainOptions>(path); }
TestOptions load_test_options(const std::string& path) { return load_options_file<TestOptions>(path); }

void validate(const TrainOptions& o) {
  if (o.train_dir.empty()) throw Error("no training folder given (--train-dir or \"train_dir\" in the config)");
  if (o.image_size < 32) throw Error("image_size must be at least 32, got " + std::to_string(o.image_size));
  if (o.batch_size < 1) throw Error("batch_size must be at least 1");
  if (o.epochs < 1) throw Error("epochs must be at least 1");
  if (o.dense < 0) throw Error("dense must be >= 0 (0 = no hidden layer)");
  if (o.dropout < 0 || o.dropout >= 1) throw Error("dropout must be in [0, 1)");
  if (!(o.lr > 0)) throw Error("lr must be positive");
  if (o.patience < 1) throw Error("patience must be at least 1");
  if (o.freeze_epochs < 0) throw Error("freeze_epochs must be >= 0");
  if (o.freeze_epochs > 0 && o.weights == "none") {
    throw Error("freeze_epochs " + std::to_string(o.freeze_epochs) +
                " would train the head on a frozen random backbone (weights: none): give --weights with "
                "torchvision's ImageNet file, or --freeze-epochs 0");
  }
  if (o.workers < 0) throw Error("workers must be >= 0");
  if (o.normalize != "auto" && o.normalize != "rescale" && o.normalize != "imagenet") {
    throw Error("normalize must be auto, rescale or imagenet, got '" + o.normalize + "'");
  }
  if (o.validation_split <= 0 || o.validation_split >= 1) {
    throw Error("validation_split must be in (0, 1): checkpointing and early stopping monitor val_loss");
  }
  models::check_kernels_name(o.kernels);
  validate(o.augmentation);
}

void validate(const TestOptions& o) {
  if (o.checkpoint.empty()) throw Error("no checkpoint given (--checkpoint)");
  if (o.test_dir.empty()) throw Error("no test folder given (--test-dir)");
  if (!(o.threshold > 0 && o.threshold < 1)) throw Error("threshold must be in (0, 1)");
  if (o.batch_size < 1) throw Error("batch_size must be at least 1");
  if (o.workers < 0) throw Error("workers must be >= 0");
  models::check_kernels_name(o.kernels);
}

}  // namespace cargovision
