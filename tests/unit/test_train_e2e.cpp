#include <gtest/gtest.h>

#include "cargovision/classify/evaluator.h"
#include "cargovision/classify/trainer.h"
#include "cargovision/core/error.h"
#include "cargovision/core/interrupt.h"
#include "cargovision/io/csv.h"
#include "cargovision/io/json_file.h"
#include "test_support.h"

namespace cargovision {
namespace {

namespace fs = std::filesystem;

TrainOptions tiny_run(const testing::TempDir& dir) {
  TrainOptions options;
  options.train_dir = (dir.path() / "train").string();
  options.output_dir = (dir.path() / "run").string();
  options.backbone = "resnet18";
  options.image_size = 64;
  options.batch_size = 8;
  options.epochs = 6;
  options.lr = 1e-3;
  options.dense = 16;
  options.validation_split = 0.25;
  options.workers = 2;
  options.seed = 7;
  return options;
}

// One tiny training run shared by the tests below: ResNet18, 64x64, 24 images, broken files mixed in.
class TinyTraining : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    testing::make_two_class_folder(dir_->path() / "train", 12, 64, 1);
    testing::write_bytes(dir_->path() / "train" / "0" / "zz_zero_bytes.jpg", "");
    testing::write_bytes(dir_->path() / "train" / "1" / "zz_not_an_image.png", "text");
    testing::make_two_class_folder(dir_->path() / "test", 4, 80, 100);
    testing::write_bytes(dir_->path() / "test" / "1" / "broken.jpg", "\xff\xd8\xff\xe0 truncated");
    clear_interrupt();
    summary_ = new TrainSummary(train_classifier(tiny_run(*dir_)));
  }
  static void TearDownTestSuite() {
    delete summary_;
    delete dir_;
  }
  static testing::TempDir* dir_;
  static TrainSummary* summary_;
};
testing::TempDir* TinyTraining::dir_ = nullptr;
TrainSummary* TinyTraining::summary_ = nullptr;

TEST_F(TinyTraining, LossFallsAndOutputsAreWritten) {
  const auto& history = summary_->history;
  ASSERT_GE(history.size(), 2u);
  EXPECT_LT(history.back().loss, history.front().loss);
  EXPECT_EQ(summary_->unreadable_images, 2u);
  // 12 + 1 files per class, 25% validation -> int(0.25 * 13) = 3 each; training 10 : 10 -> weights 1 : 1
  EXPECT_DOUBLE_EQ(summary_->class_weights[0], 1.0);
  const fs::path run = dir_->path() / "run";
  for (const char* name : {"best.pt", "best.json", "last.pt", "last.json", "history.csv", "history.png", "options.json"}) {
    EXPECT_TRUE(fs::exists(run / name)) << name;
  }
  const auto options = read_json_file((run / "options.json").string());
  EXPECT_EQ(options["backbone"], "resnet18");
  EXPECT_EQ(options["augmentation"]["rotation_range"], 20.0);
  const auto sidecar = read_json_file((run / "best.json").string());
  EXPECT_EQ(sidecar["epoch"], summary_->best_epoch);
  EXPECT_EQ(sidecar["normalization"], "rescale");
  const std::string csv = testing::read_text(run / "history.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), static_cast<long>(history.size() + 1));
}

TEST_F(TinyTraining, TestWritesTheSeedReport) {
  TestOptions options;
  options.checkpoint = (dir_->path() / "run" / "best.pt").string();
  options.test_dir = (dir_->path() / "test").string();
  options.output = (dir_->path() / "report" / "test_report.csv").string();
  const TestSummary summary = test_classifier(options);
  EXPECT_EQ(summary.rows.size(), 8u);
  EXPECT_EQ(summary.unreadable_images, 1u);
  ASSERT_TRUE(summary.metrics.has_value());
  EXPECT_EQ(summary.metrics->total(), 8u);
  EXPECT_GT(summary.model_ms_per_image, 0.0);

  std::istringstream report(testing::read_text(options.output));
  std::string line;
  std::getline(report, line);
  EXPECT_EQ(line, "Image list,GT,Prediction,accuracy,probability");
  std::vector<std::vector<std::string>> rows;
  while (std::getline(report, line)) rows.push_back(csv_split(line));
  ASSERT_EQ(rows.size(), 10u);
  EXPECT_EQ(rows[0][0], "0/empty_V1.png");
  EXPECT_EQ(rows[0][1], "0");
  EXPECT_TRUE(rows[0][3] == "TRUE" || rows[0][3] == "FALSE");
  EXPECT_EQ(rows[8][0], "Average Accuracy");
  EXPECT_NEAR(std::stod(rows[8][1]), summary.metrics->accuracy(), 1e-4);
  EXPECT_EQ(rows[9][0], "Inference Speed(ms)");
  const auto metrics = read_json_file((dir_->path() / "report" / "metrics.json").string());
  EXPECT_EQ(metrics["unreadable_images"], 1);
  EXPECT_EQ(metrics["confusion_matrix"].size(), 2u);
}

TEST_F(TinyTraining, FlatFolderHasNoGroundTruth) {
  const fs::path flat = dir_->path() / "flat";
  testing::write_image(flat / "a.png", testing::synthetic_wagon(1, 50, 3));
  testing::write_image(flat / "b.png", testing::synthetic_wagon(0, 50, 4));
  TestOptions options;
  options.checkpoint = (dir_->path() / "run" / "last.pt").string();
  options.test_dir = flat.string();
  options.output = (dir_->path() / "flat_report.csv").string();
  const TestSummary summary = test_classifier(options);
  EXPECT_FALSE(summary.metrics.has_value());
  ASSERT_EQ(summary.rows.size(), 2u);
  EXPECT_FALSE(summary.rows[0].ground_truth.has_value());
}

TEST(Training, RejectsOneClassAndBadOptions) {
  testing::TempDir dir;
  testing::write_image(dir.path() / "train" / "0" / "a.png", testing::synthetic_wagon(0, 32, 1));
  TrainOptions options = tiny_run(dir);
  try {
    train_classifier(options);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("found 1 class folder(s) [0]; the cargo classifier needs exactly 2"),
              std::string::npos)
        << e.what();
  }
  options.device = "cuda:0";
  if (!torch::cuda::is_available()) {
    EXPECT_THROW(train_classifier(options), Error);
  }
  options = tiny_run(dir);
  options.weights = (dir.path() / "absent.pth").string();
  EXPECT_THROW(train_classifier(options), Error);
}

TEST(Training, InterruptSavesLastAndKeepsGoingNowhere) {
  testing::TempDir dir;
  testing::make_two_class_folder(dir.path() / "train", 4, 48, 5);
  TrainOptions options = tiny_run(dir);
  options.image_size = 48;
  request_interrupt();
  const TrainSummary summary = train_classifier(options);
  clear_interrupt();
  EXPECT_TRUE(summary.interrupted);
  EXPECT_EQ(summary.epochs_run, 0);
  EXPECT_TRUE(summary.best_checkpoint.empty());
  EXPECT_TRUE(fs::exists(dir.path() / "run" / "last.pt"));
  EXPECT_FALSE(fs::exists(dir.path() / "run" / "best.pt"));
}

}  // namespace
}  // namespace cargovision
