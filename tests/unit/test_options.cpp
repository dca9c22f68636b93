#include <gtest/gtest.h>

#include "cargovision/classify/cli.h"
#include "cargovision/classify/options.h"
#include "cargovision/core/app.h"
#include "cargovision/core/error.h"
#include "cargovision/io/json_file.h"
#include "test_config.h"
#include "test_support.h"

namespace cargovision {
namespace {

TEST(Options, SeedConfigLoads) {
  const TrainOptions options = load_train_options(std::string(kSourceDir) + "/configs/cargo_resnet152.json");
  EXPECT_EQ(options.backbone, "resnet152");
  EXPECT_EQ(options.weights, "resnet152-394f9c45.pth");  // torchvision's file: its 5 frozen epochs need it
  EXPECT_EQ(options.freeze_epochs, 5);
  EXPECT_EQ(options.dense, 16);
  EXPECT_DOUBLE_EQ(options.dropout, 0.25);
  EXPECT_DOUBLE_EQ(options.lr, 2e-5);
  EXPECT_EQ(options.patience, 5);
  EXPECT_DOUBLE_EQ(options.validation_split, 0.2);
  EXPECT_DOUBLE_EQ(options.augmentation.shear_range, 0.2);
  EXPECT_EQ(options.augmentation.brightness_range, (std::vector<double>{0.8, 1.2}));
}

TEST(Options, UnknownKeysAndBadTypesNameTheFile) {
  testing::TempDir dir;
  const auto path = (dir.path() / "c.json").string();
  testing::write_bytes(path, R"({"lr": 0.1, "augmentation": {"rotation": 5}})");
  try {
    load_train_options(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("c.json [augmentation]: unknown option 'rotation'"), std::string::npos)
        << e.what();
  }
  testing::write_bytes(path, R"({"epochs": "many"})");
  EXPECT_THROW(load_train_options(path), Error);
  testing::write_bytes(path, R"({"epochs": )");
  try {
    load_train_options(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("c.json: invalid JSON"), std::string::npos) << e.what();
  }
}

TEST(Options, CommandLineOverridesConfig) {
  testing::TempDir dir;
  const auto path = (dir.path() / "c.json").string();
  testing::write_bytes(path, R"({"epochs": 3, "lr": 0.5, "train_dir": "from_config"})");
  const std::vector<const char*> argv = {"preprocess", "--config", path.c_str(), "--lr", "0.25", "--zoom-range", "0.1"};
  std::string config = find_config_argument(static_cast<int>(argv.size()), argv.data());
  ASSERT_EQ(config, path);
  TrainOptions options = load_train_options(config);
  CLI::App app;
  add_train_options(app, options, config);
  app.parse(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(options.epochs, 3);
  EXPECT_DOUBLE_EQ(options.lr, 0.25);
  EXPECT_DOUBLE_EQ(options.augmentation.zoom_range, 0.1);
  EXPECT_EQ(options.train_dir, "from_config");
}

TEST(Options, ValidationMessages) {
  TrainOptions options;
  EXPECT_THROW(validate(options), Error);  // no train_dir
  options.train_dir = "x";
  options.validation_split = 0;
  EXPECT_THROW(validate(options), Error);
  options.validation_split = 0.2;
  options.freeze_epochs = 5;  // weights: none
  try {
    validate(options);
    FAIL() << "a frozen random backbone was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("freeze_epochs 5 would train the head on a frozen random backbone (weights: none)"),
              std::string::npos)
        << e.what();
  }
  options.weights = "resnet152-394f9c45.pth";
  EXPECT_NO_THROW(validate(options));
  TestOptions test;
  test.checkpoint = "a.pt";
  test.test_dir = "d";
  test.threshold = 1.5;
  EXPECT_THROW(validate(test), Error);
}

}  // namespace
}  // namespace cargovision
