#pragma once
// Keras ModelCheckpoint(monitor="val_loss", save_best_only=True) and EarlyStopping(patience, min_delta)
// as one state machine: an epoch improves iff val_loss < best - min_delta (ties and NaN never do).

#include <limits>

namespace cargovision {

class BestModelTracker {
 public:
  explicit BestModelTracker(int patience, double min_delta = 0.0);

  struct Decision {
    bool save = false;  // val_loss strictly improved: write the checkpoint
    bool stop = false;  // patience exhausted
  };
  // epoch is 0-based, as Keras counts.
  Decision update(int epoch, double val_loss);

  double best() const { return best_; }
  int best_epoch() const { return best_epoch_; }
  int wait() const { return wait_; }

 private:
  int patience_;
  double min_delta_;
  double best_ = std::numeric_limits<double>::infinity();
  int best_epoch_ = -1;
  int wait_ = 0;
};

}  // namespace cargovision
