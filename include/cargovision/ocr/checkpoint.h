#pragma once
// Recognizer checkpoints as the original saves them through DataParallel: every key "module."-prefixed,
// a plain name -> tensor dict that Python's torch.load reads and the original demo.py accepts. A JSON
// sidecar (<file>.json) records the iteration and options so a run can resume.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "cargovision/io/state_dict.h"

namespace cargovision::ocr {

// The weights at `path` (the original's keys) and `path`.json, which records their fingerprint and those
// of `described`, files of the same checkpoint written before (io/checkpoint_sidecar.h).
void save_ocr_checkpoint(const torch::nn::Module& model, const std::string& path, const nlohmann::json& sidecar,
                         const std::vector<std::string>& described = {});

// Loads a checkpoint with or without the "module." prefix. Strict unless fine_tune: then matching
// tensors are copied and the report lists what was skipped (shape mismatches with both shapes) or
// missing. The TPS grid constants (inv_delta_C, P_hat), absent from older checkpoints, are kept from
// the model when the file lacks them.
LoadReport load_ocr_checkpoint(torch::nn::Module& model, const std::string& path, bool fine_tune);

// The iteration a checkpoint was saved at: from its sidecar (which must describe this file), else from
// an iter_N.pth file name, else 0.
int checkpoint_iteration(const std::string& path);

}  // namespace cargovision::ocr
