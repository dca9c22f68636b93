#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cargovision/classify/history.h"
#include "cargovision/classify/options.h"

namespace cargovision {
namespace distributed {
class ProcessGroup;
}

struct TrainSummary {
  int epochs_run = 0;
  int best_epoch = 0;                  // 1-based; 0 when no epoch finished
  double best_val_loss = 0;
  std::string best_checkpoint;         // <output_dir>/best.pt (empty if never saved)
  std::string last_checkpoint;         // <output_dir>/last.pt, the weights at the end of training
  bool stopped_early = false;
  bool interrupted = false;
  std::size_t unreadable_images = 0;
  std::vector<double> class_weights;
  std::vector<EpochRecord> history;
};

// Trains the cargo classifier as the seed's Keras script does (see docs in README); writes
// options.json, best.pt/.json (on strict val_loss improvement), last.pt/.json, history.csv/.png
// and train.log into options.output_dir.
// With a process group this process is one rank of a data-parallel run: --batch-size stays the global
// batch, each rank reads its rows of every batch (and of the validation batches); gradients, batch-norm
// statistics, dropout masks, augmentation and the reported figures are those of the whole batch, so the
// run trains as one process would. Rank 0 alone writes the run's files.
TrainSummary train_classifier(const TrainOptions& options, distributed::ProcessGroup* group = nullptr);

}  // namespace cargovision
