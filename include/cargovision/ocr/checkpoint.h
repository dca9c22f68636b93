#pragma once
// Recognizer checkpoints as the original saves them through DataParallel: every key "module."-prefixed,
// a plain name -> tensor dict that Python's torch.load reads and the original demo.py accepts. A JSON
// sidecar (<file>.json) records the iteration and options so a run can resume.

#include <nlohmann/json.hpp>

#include <string>

#include "cargovision/io/state_dict.h"

namespace cargovision::ocr {

void save_ocr_checkpoint(const torch::nn::Module& model, const std::string& path, const nlohmann::json& sidecar);

// Loads a checkpoint with or without the "module." prefix. Strict unless fine_tune: then matching
// tensors are copied and the report lists what was skipped (shape mismatches with both shapes) or
// missing. The TPS grid constants (inv_delta_C, P_hat), absent from older checkpoints, are kept from
// the model when the file lacks them.
LoadReport load_ocr_checkpoint(torch::nn::Module& model, const std::string& path, bool fine_tune);

// The iteration a checkpoint was saved at: from its sidecar, else from an iter_N.pth file name, else 0.
int checkpoint_iteration(const std::string& path);

}  // namespace cargovision::ocr
