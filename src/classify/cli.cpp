#include "cargovision/classify/cli.h"

#include "cargovision/models/backbone.h"
#include "cargovision/models/fast_kernels.h"

namespace cargovision {

void add_train_options(CLI::App& app, TrainOptions& o, std::string& config_file) {
  app.add_option("--config", config_file, "JSON file with any of the options below (snake_case keys); the command line wins");
  app.add_option("--train-dir,--train_dir", o.train_dir, "training folder with one sub-folder per class (0 = empty, 1 = loaded)")
      ->capture_default_str();
  app.add_option("-o,--output-dir,--output_dir", o.output_dir,
                 "run folder: best.pt/.json, last.pt/.json, history.csv/.png, options.json, train.log")
      ->capture_default_str();
  app.add_option("--resume", o.resume,
                 "continue the run in this folder from its last.pt: epoch, best val_loss, early-stopping counter, "
                 "optimizer state and history (its options.json gives the options; the command line still wins)");
  app.add_option("--backbone", o.backbone, "feature extractor")
      ->check(CLI::IsMember(models::backbone_names()))
      ->capture_default_str();
  app.add_option("--weights", o.weights, "torchvision ImageNet state dict for the backbone, or 'none' (random init)")
      ->capture_default_str();
  app.add_option("--dense", o.dense, "hidden Dense units in the head (0 = none; the seed's best variant used 16)")
      ->capture_default_str();
  app.add_option("--dropout", o.dropout, "dropout after global average pooling")->capture_default_str();
  app.add_option("--image-size,--image_size", o.image_size, "square input size")->capture_default_str();
  app.add_option("--resize", o.resize, "resize filter: nearest (as Keras/Pillow), bilinear or area")
      ->check(CLI::IsMember({"nearest", "bilinear", "area"}))
      ->capture_default_str();
  app.add_option("--normalize", o.normalize,
                 "input normalisation: rescale ([0,1]), imagenet (torchvision mean/std), auto (imagenet with --weights)")
      ->check(CLI::IsMember({"auto", "rescale", "imagenet"}))
      ->capture_default_str();
  app.add_option("-b,--batch-size,--batch_size", o.batch_size, "batch size")->capture_default_str();
  app.add_option("-e,--epochs", o.epochs, "maximum epochs (early stopping may end sooner)")->capture_default_str();
  app.add_option("--lr", o.lr, "Adam learning rate")->capture_default_str();
  app.add_option("--adam-epsilon,--adam_epsilon", o.adam_epsilon, "Adam epsilon (Keras default 1e-7)")->capture_default_str();
  app.add_option("--freeze-epochs,--freeze_epochs", o.freeze_epochs,
                 "epochs training only the head (backbone frozen, BatchNorm in eval) before fine-tuning everything")
      ->capture_default_str();
  app.add_option("--patience", o.patience, "early stopping: epochs without val_loss improvement")->capture_default_str();
  app.add_option("--validation-split,--validation_split", o.validation_split,
                 "fraction of each class (its first files in sorted order) kept for validation")
      ->capture_default_str();
  app.add_option("--class-weights,--class_weights", o.class_weights,
                 "weight the training loss by N/(K*N_c) per class (true/false)")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "random seed (initialisation, shuffling, augmentation)")->capture_default_str();
  app.add_option("--workers", o.workers, "image decoding threads")->capture_default_str();
  app.add_option("--threads", o.threads, "LibTorch compute threads (0 = OMP_NUM_THREADS if set, else one per core)")->capture_default_str();
  app.add_option("--device", o.device, "cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--kernels", o.kernels, models::kKernelsHelp)->capture_default_str();
  app.add_option("--log-level,--log_level", o.log_level, "trace, debug, info, warn, error")->capture_default_str();

  auto& a = o.augmentation;
  app.add_option("--augment", a.enabled, "random augmentation of the training subset (true/false)")->capture_default_str();
  app.add_option("--rotation-range,--rotation_range", a.rotation_range, "degrees")->capture_default_str();
  app.add_option("--width-shift-range,--width_shift_range", a.width_shift_range, "fraction of width (< 1) or pixels")
      ->capture_default_str();
  app.add_option("--height-shift-range,--height_shift_range", a.height_shift_range, "fraction of height (< 1) or pixels")
      ->capture_default_str();
  app.add_option("--shear-range,--shear_range", a.shear_range, "degrees (Keras semantics)")->capture_default_str();
  app.add_option("--zoom-range,--zoom_range", a.zoom_range, "zoom factors drawn from [1 - z, 1 + z] per axis")
      ->capture_default_str();
  app.add_option("--brightness-range,--brightness_range", a.brightness_range, "two factors LOW HIGH")
      ->expected(2)
      ->capture_default_str();
  app.add_option("--horizontal-flip,--horizontal_flip", a.horizontal_flip, "random horizontal flips (true/false)")
      ->capture_default_str();
  app.add_option("--augment-flavour,--augment_flavour", a.flavour,
                 "legacy (keras-preprocessing 1.1.2, the seed's) or modern (Keras >= 2.9)")
      ->check(CLI::IsMember({"legacy", "modern"}))
      ->capture_default_str();
}

void add_test_options(CLI::App& app, TestOptions& o, std::string& config_file) {
  app.add_option("--config", config_file, "JSON file with any of the options below (snake_case keys); the command line wins");
  app.add_option("-c,--checkpoint", o.checkpoint, "checkpoint written by preprocess (best.pt; its .json sidecar beside it)")
      ->capture_default_str();
  app.add_option("--test-dir,--test_dir", o.test_dir,
                 "test folder: class sub-folders (ground truth) or images directly (no ground truth)")
      ->capture_default_str();
  app.add_option("-o,--output", o.output, "CSV report file, or a folder to hold test_report.csv (default <checkpoint dir>/test_report.csv); metrics.json and report.html beside it")
      ->capture_default_str();
  app.add_option("--threshold", o.threshold, "predict class 1 when its probability exceeds this")->capture_default_str();
  app.add_option("-b,--batch-size,--batch_size", o.batch_size, "batch size")->capture_default_str();
  app.add_option("--workers", o.workers, "image decoding threads")->capture_default_str();
  app.add_option("--threads", o.threads, "LibTorch compute threads (0 = OMP_NUM_THREADS if set, else one per core)")->capture_default_str();
  app.add_option("--device", o.device, "cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--kernels", o.kernels, models::kKernelsHelp)->capture_default_str();
  app.add_flag("--cam,!--no-cam", o.cam,
               "Grad-CAM heat map of the backbone's last block beside each image in report.html (default on)");
  app.add_option("--log-level,--log_level", o.log_level, "trace, debug, info, warn, error")->capture_default_str();
}

}  // namespace cargovision
