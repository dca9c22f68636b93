#include <gtest/gtest.h>

#include <fstream>

#include "cargovision/core/error.h"
#include "cargovision/ocr/options.h"
#include "test_config.h"
#include "test_support.h"

namespace cv_ = cargovision;

namespace {

std::string config(const char* name) { return std::string(cv_::kSourceDir) + "/configs/" + name; }

}  // namespace

TEST(OcrOptions, SeedConfigIsTheSeedsRun) {
  auto options = cv_::ocr::load_ocr_train_options(config("ocr_tps_resnet_bilstm_attn.json"));
  EXPECT_EQ(options.batch_size, 64);
  EXPECT_EQ(options.num_iter, 500);
  EXPECT_EQ(options.valInterval, 50);
  EXPECT_EQ(options.select_data, "01-02-03");
  EXPECT_EQ(options.batch_ratio, "0.482-0.482-0.036");
  EXPECT_TRUE(options.sensitive);
  EXPECT_TRUE(options.FT);
  options.train_data = "train";
  options.valid_data = "valid";
  cv_::ocr::finalize(options);
  EXPECT_EQ(options.character.size(), 94u);  // sensitive: the printable ASCII set, as the original
  EXPECT_EQ(options.exp_name, "TPS-ResNet-BiLSTM-Attn-Seed1111");
  const std::string text = cv_::ocr::options_text(options, 96);
  EXPECT_EQ(text.rfind("------------ Options -------------\n", 0), 0u);
  EXPECT_NE(text.find("\nbatch_ratio: 0.482-0.482-0.036\n"), std::string::npos);
  EXPECT_NE(text.find("\nnum_class: 96\n"), std::string::npos);
}

TEST(OcrOptions, DemoReadsATrainingConfigAndStillRejectsTypos) {
  const auto demo = cv_::ocr::load_ocr_demo_options(config("ocr_demo.json"));
  EXPECT_EQ(demo.Prediction, "CTC");
  EXPECT_EQ(demo.output_channel, 128);
  EXPECT_EQ(demo.hidden_size, 128);

  cv_::testing::TempDir dir;
  const auto path = (dir.path() / "typo.json").string();
  std::ofstream(path) << R"({"Prediction": "CTC", "num_iterations": 5})";
  try {
    cv_::ocr::load_ocr_demo_options(path);
    FAIL() << "a key neither app knows must be an error";
  } catch (const cv_::Error& e) {
    EXPECT_NE(std::string(e.what()).find("typo.json: unknown option 'num_iterations'"), std::string::npos) << e.what();
  }
}

// train_ocr writes options.json with what the run derived (num_class, world_size) beside the options:
// the file must reproduce the run (train_ocr --config) and read with its model (demo_ocr --config).
TEST(OcrOptions, ARunsRecordedOptionsAreAConfigForBothApps) {
  cv_::testing::TempDir dir;
  const auto path = (dir.path() / "options.json").string();
  std::ofstream(path) << R"({"Prediction": "Attn", "output_channel": 96, "num_iter": 7, "num_class": 96, "world_size": 2})";
  const auto train = cv_::ocr::load_ocr_train_options(path);
  EXPECT_EQ(train.output_channel, 96);
  EXPECT_EQ(train.num_iter, 7);
  const auto demo = cv_::ocr::load_ocr_demo_options(path);
  EXPECT_EQ(demo.output_channel, 96);
  EXPECT_EQ(demo.Prediction, "Attn");

  std::ofstream(path) << R"({"num_classes": 96})";
  try {
    cv_::ocr::load_ocr_train_options(path);
    FAIL() << "only the recorded facts are dropped, not look-alikes";
  } catch (const cv_::Error& e) {
    EXPECT_NE(std::string(e.what()).find("options.json: unknown option 'num_classes'"), std::string::npos) << e.what();
  }
}

TEST(OcrOptions, KernelsComeFromTheConfigAndAreChecked) {
  cv_::testing::TempDir dir;
  const auto path = (dir.path() / "kernels.json").string();
  std::ofstream(path) << R"({"Prediction": "CTC", "kernels": "libtorch"})";
  auto demo = cv_::ocr::load_ocr_demo_options(path);
  EXPECT_EQ(demo.kernels, "libtorch");
  EXPECT_EQ(cv_::ocr::OcrDemoOptions().kernels, "fast");

  auto train = cv_::ocr::load_ocr_train_options(config("ocr_demo.json"));
  train.kernels = "libtorch";
  EXPECT_NE(cv_::ocr::options_text(train, 37).find("\nkernels: libtorch\n"), std::string::npos);
  train.kernels = "onednn";
  try {
    cv_::ocr::finalize(train);
    FAIL() << "an unknown kernels name must be an error";
  } catch (const cv_::Error& e) {
    EXPECT_STREQ(e.what(), "--kernels onednn: unknown kernels (use fast or libtorch)");
  }
}
