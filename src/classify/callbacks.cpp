#include "cargovision/classify/callbacks.h"

#include "cargovision/core/error.h"

namespace cargovision {

BestModelTracker::BestModelTracker(int patience, double min_delta) : patience_(patience), min_delta_(min_delta) {
  if (patience < 1) throw Error("patience must be at least 1");
}

void BestModelTracker::restore(const State& state) {
  best_ = state.best;
  stopping_best_ = state.stopping_best;
  best_epoch_ = state.best_epoch;
  wait_ = state.wait;
}

BestModelTracker::Decision BestModelTracker::update(int epoch, double val_loss) {
  Decision decision;
  ++wait_;
  if (val_loss < best_) {  // false for NaN
    best_ = val_loss;
    best_epoch_ = epoch;
    decision.save = true;
  }
  if (val_loss < stopping_best_ - min_delta_) {
    stopping_best_ = val_loss;
    wait_ = 0;
  }
  decision.stop = wait_ >= patience_ && epoch > 0;
  return decision;
}

}  // namespace cargovision
