#pragma once
// Plain option structs for the classifier apps. Every field can come from a JSON config (snake_case
// keys, as written to options.json beside each run) and be overridden on the command line.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "cargovision/data/augment.h"

namespace cargovision {

struct TrainOptions {
  std::string train_dir;                 // class sub-folders 0/, 1/, ...
  std::string output_dir = "runs/cargo";
  std::string backbone = "resnet152";
  std::string weights = "none";          // torchvision state dict file, or "none" for random init
  int dense = 0;                         // hidden Dense units in the head; the seed's best used 16
  double dropout = 0.25;
  int image_size = 224;
  std::string resize = "nearest";        // nearest (Keras/Pillow) | bilinear | area
  std::string normalize = "auto";        // auto | rescale | imagenet
  int batch_size = 32;
  int epochs = 50;
  double lr = 2e-5;
  double adam_epsilon = 1e-7;            // Keras' default
  int freeze_epochs = 0;                 // epochs with the backbone frozen before fine-tuning all
  int patience = 5;
  double validation_split = 0.2;
  bool class_weights = true;
  std::uint32_t seed = 42;
  int workers = 2;
  int threads = 0;
  std::string device = "cpu";
  std::string kernels = "fast";          // fast (oneDNN on the CPU) | libtorch (PyTorch's arithmetic exactly)
  std::string log_level = "info";
  AugmentOptions augmentation;
  // Run folder to continue from its last.pt (--resume); given on the command line, not kept in options.json.
  std::string resume;
};

struct TestOptions {
  std::string checkpoint;
  std::string test_dir;
  std::string output;                    // CSV report; default: <checkpoint dir>/test_report.csv
  double threshold = 0.5;
  int batch_size = 16;
  int workers = 2;
  int threads = 0;
  std::string device = "cpu";
  std::string kernels = "fast";          // fast (oneDNN on the CPU) | libtorch (PyTorch's arithmetic exactly)
  bool cam = true;                       // Grad-CAM heat maps in report.html
  std::string log_level = "info";
};

void to_json(nlohmann::json& j, const AugmentOptions& o);
void from_json(const nlohmann::json& j, AugmentOptions& o);
void to_json(nlohmann::json& j, const TrainOptions& o);
void from_json(const nlohmann::json& j, TrainOptions& o);
void to_json(nlohmann::json& j, const TestOptions& o);
void from_json(const nlohmann::json& j, TestOptions& o);

// Reads a JSON config over the defaults; unknown keys and wrong types are errors naming the file.
TrainOptions load_train_options(const std::string& path);
TestOptions load_test_options(const std::string& path);

void validate(const TrainOptions& options);  // throws Error on inconsistent values
void validate(const TestOptions& options);

}  // namespace cargovision
