#pragma once
// train_ocr: the original train.py loop: ratio-mixed batches, Adadelta/Adam with gradient clipping,
// validation every valInterval iterations with the original's log_train.txt, best_accuracy.pth and
// best_norm_ED.pth (atomic writes), resuming and fine-tuning from --saved_model.

#include <string>

#include "cargovision/ocr/options.h"

namespace cargovision::distributed {
class ProcessGroup;
}  // namespace cargovision::distributed

namespace cargovision::ocr {

struct OcrTrainSummary {
  std::string run_dir;
  int iterations_done = 0;     // final iteration count (resumed runs include the earlier ones)
  double best_accuracy = -1.0;
  double best_norm_ED = -1.0;
  bool interrupted = false;
};

// The learning rate of a 0-based iteration: linear warm-up from lr/100 over warmup_iter, then constant
// or cosine decay to lr * final_lr_ratio at num_iter. The warm-up counts from optimizer_start, the
// iteration the optimizer's state began at: a run resumed from weights alone (no saved moments) warms
// up again, as Adam's first steps from empty moments are full-size whatever the gradient.
double scheduled_lr(const OcrTrainOptions& options, int iteration, int optimizer_start = 0);

// Options must have been finalize()d. With a process group this process is one rank of a data-parallel
// run: --batch_size stays the global batch (each rank loads its share of every ratio-mixed batch), the
// gradients, batch-norm statistics, losses and validation scores are those of the whole batch, so the
// run trains as one process would; rank 0 alone writes the run's files.
OcrTrainSummary train_ocr(const OcrTrainOptions& options, distributed::ProcessGroup* group = nullptr);

}  // namespace cargovision::ocr
