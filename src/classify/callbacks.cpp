#include "cargovision/classify/callbacks.h"

#include "cargovision/core/error.h"

namespace cargovision {

BestModelTracker::BestModelTracker(int patience, double min_delta) : patience_(patience), min_delta_(min_delta) {
  if (patience < 1) throw Error("patience must be at least 1");
}

BestModelTracker::Decision BestModelTracker::update(int epoch, double val_loss) {
  Decision decision;
  ++wait_;
  if (val_loss - min_delta_ < best_) {  // false for NaN
    best_ = val_loss;
    best_epoch_ = epoch;
    wait_ = 0;
    decision.save = true;
  }
  decision.stop = wait_ >= patience_ && epoch > 0;
  return decision;
}

}  // namespace cargovision
