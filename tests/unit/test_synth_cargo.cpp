#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "cargovision/core/error.h"
#include "cargovision/data/numpy_random.h"
#include "cargovision/synth/cargo_scene.h"
#include "test_support.h"

namespace cv_ = cargovision;
namespace fs = std::filesystem;

TEST(SynthCargo, SceneHasRequestedSizeAndIsNotBlank) {
  cv_::CargoSceneOptions options;
  options.width = 160;
  options.height = 120;
  cv_::NumpyRandom random(5);
  for (bool loaded : {false, true}) {
    const cv::Mat image = cv_::render_cargo_scene(loaded, options, random);
    ASSERT_EQ(image.cols, 160);
    ASSERT_EQ(image.rows, 120);
    ASSERT_EQ(image.type(), CV_8UC3);
    cv::Scalar mean, stddev;
    cv::meanStdDev(image, mean, stddev);
    EXPECT_GT(stddev[0] + stddev[1] + stddev[2], 30.0) << "scene should have structure, not a flat colour";
  }
}

TEST(SynthCargo, SameSeedSameScene) {
  cv_::CargoSceneOptions options;
  cv_::NumpyRandom a(11), b(11), c(12);
  const cv::Mat first = cv_::render_cargo_scene(true, options, a);
  const cv::Mat second = cv_::render_cargo_scene(true, options, b);
  const cv::Mat other = cv_::render_cargo_scene(true, options, c);
  EXPECT_EQ(cv::norm(first, second, cv::NORM_L1), 0.0);
  EXPECT_GT(cv::norm(first, other, cv::NORM_L1), 0.0);
}

TEST(SynthCargo, DatasetLayoutNamesAndRatio) {
  cv_::testing::TempDir dir;
  cv_::CargoDatasetOptions options;
  options.output_dir = dir.str();
  options.train_count = 16;
  options.test_count = 8;
  options.scene.width = 64;
  options.scene.height = 48;
  const auto summary = cv_::generate_cargo_dataset(options);
  // 5:3 empty:loaded -> 10 + 6 of 16 and 5 + 3 of 8.
  EXPECT_EQ(summary.train_empty, 10);
  EXPECT_EQ(summary.train_loaded, 6);
  EXPECT_EQ(summary.test_empty, 5);
  EXPECT_EQ(summary.test_loaded, 3);
  EXPECT_TRUE(fs::exists(dir.path() / "train" / "0" / "empty_V1.jpg"));
  EXPECT_TRUE(fs::exists(dir.path() / "train" / "0" / "empty_V10.jpg"));
  EXPECT_FALSE(fs::exists(dir.path() / "train" / "0" / "empty_V11.jpg"));
  EXPECT_TRUE(fs::exists(dir.path() / "test" / "1" / "loaded_V3.jpg"));
  const cv::Mat decoded = cv::imread((dir.path() / "train" / "1" / "loaded_V1.jpg").string());
  EXPECT_EQ(decoded.size(), cv::Size(64, 48));

  // Deterministic: a second run with the same seed writes identical bytes.
  cv_::testing::TempDir again;
  options.output_dir = again.str();
  cv_::generate_cargo_dataset(options);
  EXPECT_EQ(cv_::testing::read_text(dir.path() / "test" / "0" / "empty_V2.jpg"),
            cv_::testing::read_text(again.path() / "test" / "0" / "empty_V2.jpg"));
}

TEST(SynthCargo, RejectsBadArguments) {
  cv_::CargoDatasetOptions options;
  options.train_count = 1;
  EXPECT_THROW(cv_::generate_cargo_dataset(options), cv_::Error);
  cv_::CargoSceneOptions scene;
  scene.jpeg_quality_min = 90;
  scene.jpeg_quality_max = 10;
  cv_::NumpyRandom random(1);
  try {
    cv_::render_cargo_scene(false, scene, random);
    FAIL() << "expected an error";
  } catch (const cv_::Error& e) {
    EXPECT_NE(std::string(e.what()).find("JPEG quality range"), std::string::npos);
  }
}
