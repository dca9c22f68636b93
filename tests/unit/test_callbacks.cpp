#include <gtest/gtest.h>

#include <cmath>

#include "cargovision/classify/callbacks.h"

namespace cargovision {
namespace {

TEST(BestModelTracker, SavesOnStrictImprovementAndStopsAfterPatience) {
  BestModelTracker tracker(5);
  const double nan = std::nan("");
  // epoch:                 0    1    2    3    4    5     6
  const double losses[] = {1.0, 0.8, 0.8, 0.9, nan, 0.85, 0.81};
  const bool saves[] = {true, true, false, false, false, false, false};
  const bool stops[] = {false, false, false, false, false, false, true};
  for (int epoch = 0; epoch < 7; ++epoch) {
    const auto decision = tracker.update(epoch, losses[epoch]);
    EXPECT_EQ(decision.save, saves[epoch]) << "epoch " << epoch;
    EXPECT_EQ(decision.stop, stops[epoch]) << "epoch " << epoch;
  }
  EXPECT_EQ(tracker.best_epoch(), 1);  // the first epoch that reached the minimum
  EXPECT_DOUBLE_EQ(tracker.best(), 0.8);
}

TEST(BestModelTracker, ImprovementResetsTheCounter) {
  BestModelTracker tracker(2);
  EXPECT_TRUE(tracker.update(0, 0.5).save);
  EXPECT_FALSE(tracker.update(1, 0.6).stop);
  EXPECT_TRUE(tracker.update(2, 0.4).save);
  EXPECT_EQ(tracker.wait(), 0);
  EXPECT_FALSE(tracker.update(3, 0.45).stop);
  EXPECT_TRUE(tracker.update(4, 0.41).stop);  // best at 2, last epoch 2 + patience
}

// Keras' EarlyStopping: an improvement must beat the best by more than min_delta
// (val_loss < best - min_delta); ModelCheckpoint still saves any strict improvement.
TEST(BestModelTracker, MinDeltaIsSubtractedFromTheBest) {
  BestModelTracker tracker(2, 0.1);
  EXPECT_TRUE(tracker.update(0, 1.0).save);
  const auto small_gain = tracker.update(1, 0.95);  // better, but by less than min_delta
  EXPECT_TRUE(small_gain.save);
  EXPECT_EQ(tracker.wait(), 1);
  EXPECT_FALSE(small_gain.stop);
  const auto real_gain = tracker.update(2, 0.85);  // 0.85 < 1.0 - 0.1: the counter restarts
  EXPECT_TRUE(real_gain.save);
  EXPECT_EQ(tracker.wait(), 0);
  EXPECT_FALSE(tracker.update(3, 0.84).stop);  // 0.84 is not < 0.85 - 0.1
  EXPECT_TRUE(tracker.update(4, 0.83).stop);
  EXPECT_DOUBLE_EQ(tracker.best(), 0.83);
  EXPECT_EQ(tracker.best_epoch(), 4);
}

TEST(BestModelTracker, NanNeverSaves) {
  BestModelTracker tracker(3);
  EXPECT_FALSE(tracker.update(0, std::nan("")).save);
  EXPECT_TRUE(tracker.update(1, 10.0).save);
}

TEST(BestModelTracker, RejectsZeroPatience) { EXPECT_THROW(BestModelTracker(0), std::exception); }

}  // namespace
}  // namespace cargovision
