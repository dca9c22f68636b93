#pragma once
// Keras ModelCheckpoint(monitor="val_loss", save_best_only=True) and EarlyStopping(patience, min_delta)
// side by side, each with its own best as in Keras: the checkpoint is saved on any strict improvement
// (val_loss < its best), while the patience counter restarts only when val_loss < best - min_delta.
// Ties and NaN never improve.

#include <limits>

namespace cargovision {

class BestModelTracker {
 public:
  explicit BestModelTracker(int patience, double min_delta = 0.0);

  struct Decision {
    bool save = false;  // val_loss strictly improved on the best checkpoint: write it
    bool stop = false;  // patience exhausted
  };
  // epoch is 0-based, as Keras counts.
  Decision update(int epoch, double val_loss);

  // Everything update() depends on, for resuming a run.
  struct State {
    double best = std::numeric_limits<double>::infinity();
    double stopping_best = std::numeric_limits<double>::infinity();
    int best_epoch = -1;
    int wait = 0;
  };
  State state() const { return {best_, stopping_best_, best_epoch_, wait_}; }
  void restore(const State& state);

  double best() const { return best_; }
  int best_epoch() const { return best_epoch_; }
  int wait() const { return wait_; }

 private:
  int patience_;
  double min_delta_;
  double best_ = std::numeric_limits<double>::infinity();           // ModelCheckpoint's
  double stopping_best_ = std::numeric_limits<double>::infinity();  // EarlyStopping's
  int best_epoch_ = -1;
  int wait_ = 0;
};

}  // namespace cargovision
