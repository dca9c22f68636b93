#pragma once
// The recognizer this project trains and ships (data/models/codes_recognizer.pth + .json): where it
// is found, and how a training checkpoint becomes such a package (half-precision weights, the options
// file that demo_ocr --config and train_ocr --config take).

#include <string>
#include <vector>

#include "cargovision/ocr/options.h"

namespace cargovision::ocr {

inline constexpr const char* kShippedModelName = "codes_recognizer";

// The shipped model's .pth: $CARGOVISION_MODELS/codes_recognizer.pth, else next to the executable
// (../share/cargovision/models when installed, ../../data/models in a build tree), else the install
// prefix's share/cargovision/models, else the source tree's data/models. Error naming every place
// looked at when none has it.
std::string shipped_model_path();

// demo_ocr's options for a packaged model (pack_ocr_model's <stem>.pth + <stem>.json): the .json, with
// saved_model set to the .pth. Error naming the file that is missing.
OcrDemoOptions packaged_model_options(const std::string& stem);

// packaged_model_options of the shipped model. Error (shipped_model_path's) when it is missing.
OcrDemoOptions shipped_demo_options();

struct PackOptions {
  // train_ocr checkpoints with their .json sidecars (options): one, or several of one architecture whose
  // weights are averaged (checkpoint averaging over a run's iter_<N>.pth: a flatter optimum than any one of them).
  std::vector<std::string> checkpoints;
  std::string output_stem;  // writes <stem>.pth and <stem>.json
  bool half = true;         // float16 storage for floating weights (the TPS grid constants stay float32)
};

// Writes the package atomically; returns the size of the .pth in bytes. Error naming the checkpoint and
// the first key or option in which one of several to average differs from the first.
std::size_t pack_ocr_model(const PackOptions& options);

}  // namespace cargovision::ocr
