#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <cmath>

#include "cargovision/classify/checkpoint.h"
#include "cargovision/classify/evaluator.h"
#include "cargovision/classify/trainer.h"
#include "cargovision/core/error.h"
#include "cargovision/core/interrupt.h"
#include "cargovision/classify/image_batch_loader.h"
#include "cargovision/data/image_folder.h"
#include "cargovision/io/csv.h"
#include "cargovision/io/json_file.h"
#include "cargovision/io/state_dict.h"
#include "cargovision/train/optimizer_state.h"
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
  options.epochs = 3;
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
  EXPECT_EQ(cv::imread((run / "history.png").string()).size(), cv::Size(2 * 560, 380));  // loss | accuracy
}

// Ctrl-C during `test`: it stops at the next batch, says how far it got, and writes no partial report.
TEST_F(TinyTraining, InterruptedTestWritesNothing) {
  TestOptions options;
  options.checkpoint = (dir_->path() / "run" / "best.pt").string();
  options.test_dir = (dir_->path() / "test").string();
  options.output = (dir_->path() / "interrupted" / "test_report.csv").string();
  request_interrupt();
  try {
    test_classifier(options);
    clear_interrupt();
    FAIL() << "the interrupt was ignored";
  } catch (const Interrupted& e) {
    clear_interrupt();
    EXPECT_NE(std::string(e.what()).find("no report was written"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(options.output));
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

  // report.html: every image as a card with its thumbnail and Grad-CAM heat map, errors first.
  ASSERT_EQ(summary.html_path, (dir_->path() / "report" / "report.html").string());
  const std::string page = testing::read_text(summary.html_path);
  std::size_t cards = 0, pictures = 0;
  for (auto at = page.find("<figure class=\"card"); at != std::string::npos; at = page.find("<figure class=\"card", at + 1)) ++cards;
  for (auto at = page.find("data:image/jpeg;base64,"); at != std::string::npos; at = page.find("data:image/jpeg;base64,", at + 1)) ++pictures;
  EXPECT_EQ(cards, 8u);
  EXPECT_EQ(pictures, 16u);
  const std::size_t errors = summary.metrics->false_positive + summary.metrics->false_negative;
  if (errors > 0 && errors < 8) {
    EXPECT_LT(page.find("<figure class=\"card wrong\">"), page.find("<figure class=\"card\">"));  // errors first
  }
  EXPECT_NE(page.find(fmt::format("{:.2f} % ({}/8)", 100.0 * summary.metrics->accuracy(),
                                  summary.metrics->true_positive + summary.metrics->true_negative)),
            std::string::npos);
  const auto seen = testing::check_page_in_browser(summary.html_path);
  if (seen.available) {
    EXPECT_TRUE(seen.ready) << seen.detail;
    EXPECT_EQ(seen.images, 16) << seen.detail;
    EXPECT_EQ(seen.broken_images, 0) << seen.detail;
    EXPECT_EQ(seen.script_errors, 0) << seen.detail;
  }

  // --no-cam: thumbnails only.
  options.cam = false;
  options.output = (dir_->path() / "report_no_cam" / "test_report.csv").string();
  const TestSummary without_cam = test_classifier(options);
  const std::string plain = testing::read_text(without_cam.html_path);
  EXPECT_EQ(plain.find("Grad-CAM"), std::string::npos);
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

// 8 training images at batch size 7 leave one over; batch norm cannot train on a batch of one.
TEST(Training, LastBatchOfOneImageJoinsThePreviousBatch) {
  testing::TempDir dir;
  testing::make_two_class_folder(dir.path() / "train", 5, 48, 3);
  const ImageFolder folder = scan_image_folder((dir.path() / "train").string());
  const FolderSplit split = split_validation(folder, 0.2);
  ASSERT_EQ(split.training.size(), 8u);
  BatchLoaderOptions loader_options;
  loader_options.batch_size = 7;
  loader_options.fold_single_remainder = true;
  ImageBatchLoader loader(split.training, ImagePipeline{48}, loader_options);
  EXPECT_TRUE(loader.folds_single_remainder());
  EXPECT_EQ(loader.batches_per_epoch(), 1u);
  loader.start_epoch(0);
  std::vector<int64_t> sizes;
  while (auto batch = loader.next()) sizes.push_back(batch->images.size(0));
  EXPECT_EQ(sizes, (std::vector<int64_t>{8}));

  TrainOptions options = tiny_run(dir);
  options.batch_size = 7;
  options.validation_split = 0.2;
  options.epochs = 1;
  options.image_size = 48;
  const TrainSummary summary = train_classifier(options);
  ASSERT_EQ(summary.history.size(), 1u);
  EXPECT_TRUE(std::isfinite(summary.history.front().loss));
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

// preprocess --resume: a run stopped after 2 epochs and resumed to 4 ends where an uninterrupted
// 4-epoch run ends: same history, weights, early-stopping state.
TEST(Training, ResumedRunEqualsAnUninterruptedOne) {
  testing::TempDir dir;
  testing::make_two_class_folder(dir.path() / "train", 6, 48, 11);
  clear_interrupt();
  TrainOptions straight = tiny_run(dir);
  straight.image_size = 48;
  straight.epochs = 4;
  straight.patience = 10;
  straight.workers = 0;
  straight.threads = 1;
  straight.output_dir = (dir.path() / "straight").string();
  const TrainSummary expected = train_classifier(straight);

  TrainOptions first = straight;
  first.output_dir = (dir.path() / "resumed").string();
  first.epochs = 2;
  train_classifier(first);
  TrainOptions second = first;
  second.epochs = 4;
  second.resume = first.output_dir;
  const TrainSummary resumed = train_classifier(second);

  ASSERT_EQ(resumed.history.size(), 4u);
  EXPECT_EQ(resumed.epochs_run, 4);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(resumed.history[i].epoch, static_cast<int>(i) + 1);
    EXPECT_NEAR(resumed.history[i].val_loss, expected.history[i].val_loss, 1e-5) << "epoch " << i + 1;
  }
  EXPECT_EQ(resumed.best_epoch, expected.best_epoch);
  const StateDict a = load_state_dict_file((dir.path() / "straight" / "last.pt").string());
  const StateDict b = load_state_dict_file((dir.path() / "resumed" / "last.pt").string());
  for (const auto& item : a) {
    EXPECT_TRUE(torch::allclose(item.value(), b[item.key()], 1e-4, 1e-5)) << item.key();
  }
  const std::string csv = testing::read_text(dir.path() / "resumed" / "history.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);

  // Done is done: all --epochs ran.
  try {
    train_classifier(second);
    FAIL() << "resumed a finished run";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("4 of --epochs 4 are done; give more --epochs to continue"), std::string::npos)
        << e.what();
  }
  TrainOptions nothing = second;
  nothing.resume = (dir.path() / "nowhere").string();
  EXPECT_THROW(train_classifier(nothing), Error);
}

// Keras unfreezes the backbone by recompiling the model, which gives Adam new moments and a new step
// count: after 1 frozen + 1 unfrozen epoch of 3 steps each, the head's Adam state holds 3 steps, not 6.
TEST(Training, UnfreezingStartsAdamAfresh) {
  testing::TempDir dir;
  testing::make_two_class_folder(dir.path() / "train", 6, 48, 21);
  // A "pretrained" backbone file in torchvision's keys: freezing a random backbone is refused.
  CargoClassifier donor(CargoClassifierOptions{"resnet18", 16, 0.25});
  StateDict backbone;
  for (const auto& item : classifier_file_state(*donor)) {
    if (item.key().rfind("head.", 0) != 0) backbone.insert(item.key(), item.value());
  }
  save_state_dict(backbone, (dir.path() / "resnet18.pth").string());
  clear_interrupt();
  TrainOptions options = tiny_run(dir);
  options.image_size = 48;
  options.weights = (dir.path() / "resnet18.pth").string();
  options.freeze_epochs = 1;
  options.epochs = 2;
  options.batch_size = 4;  // 10 training images: 3 steps an epoch
  options.validation_split = 0.25;
  train_classifier(options);
  const auto last = (dir.path() / "run" / "last.pt").string();
  LoadedClassifier loaded = load_classifier_checkpoint(last);
  torch::optim::Adam adam(loaded.model->parameters(), torch::optim::AdamOptions(1e-3));
  load_optimizer_state(adam, last + ".optim");
  const torch::Tensor head_bias = loaded.model->parameters().back();
  const auto found = adam.state().find(c10::guts::to_string(head_bias.unsafeGetTensorImpl()));
  ASSERT_NE(found, adam.state().end());
  EXPECT_EQ(static_cast<torch::optim::AdamParamState&>(*found->second).step(), 3);
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
