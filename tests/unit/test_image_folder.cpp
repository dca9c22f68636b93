#include <gtest/gtest.h>

#include <unistd.h>

#include <opencv2/imgcodecs.hpp>

#include "cargovision/core/error.h"
#include "cargovision/data/image_folder.h"
#include "cargovision/data/resize.h"
#include "cargovision/io/folder_walk.h"
#include "cargovision/io/image_reader.h"
#include "test_config.h"
#include "test_support.h"

namespace cargovision {
namespace {

using testing::TempDir;

cv::Mat tiny(int value = 100) { return cv::Mat(4, 4, CV_8UC3, cv::Scalar::all(value)); }

TEST(ImageFolder, ClassesInStringOrderAndFilesInWalkOrder) {
  TempDir dir;
  for (const char* cls : {"2", "10", "1", "0"}) testing::write_image(dir.path() / cls / "a.png", tiny());
  testing::write_image(dir.path() / "1" / "sub" / "a.png", tiny());
  testing::write_image(dir.path() / "1" / "b.JPG", tiny());
  testing::write_bytes(dir.path() / "1" / "notes.txt", "not an image");
  const ImageFolder folder = scan_image_folder(dir.str());
  ASSERT_EQ(folder.class_names, (std::vector<std::string>{"0", "1", "10", "2"}));
  std::vector<std::string> relative;
  for (const auto& s : folder.samples) relative.push_back(s.relative + ":" + std::to_string(s.label));
  EXPECT_EQ(relative, (std::vector<std::string>{"0/a.png:0", "1/a.png:1", "1/b.JPG:1", "1/sub/a.png:1",
                                                "10/a.png:2", "2/a.png:3"}));
}

TEST(ImageFolder, ValidationSplitTakesTheFirstFilesOfEachClass) {
  TempDir dir;
  for (int i = 0; i < 10; ++i) testing::write_image(dir.path() / "0" / ("f" + std::to_string(i) + ".png"), tiny());
  for (int i = 0; i < 6; ++i) testing::write_image(dir.path() / "1" / ("g" + std::to_string(i) + ".png"), tiny());
  const FolderSplit split = split_validation(scan_image_folder(dir.str()), 0.2);
  // int(0.2 * 10) = 2 and int(0.2 * 6) = 1
  ASSERT_EQ(split.validation.size(), 3u);
  EXPECT_EQ(split.validation[0].relative, "0/f0.png");
  EXPECT_EQ(split.validation[1].relative, "0/f1.png");
  EXPECT_EQ(split.validation[2].relative, "1/g0.png");
  EXPECT_EQ(split.training.size(), 13u);
  EXPECT_EQ(split.training.front().relative, "0/f2.png");
  EXPECT_EQ(count_per_class(split.training, 2), (std::vector<std::size_t>{8, 5}));
}

TEST(ImageFolder, BalancedClassWeightsMatchTheSeed) {
  const auto weights = balanced_class_weights({5, 3});  // the seed's 5:3 split gave 0.8 : 1.33
  EXPECT_DOUBLE_EQ(weights[0], 0.8);
  EXPECT_NEAR(weights[1], 4.0 / 3.0, 1e-12);
  EXPECT_EQ(balanced_class_weights({4, 0})[1], 0.0);
}

TEST(ImageFolder, ErrorsNameTheFolder) {
  TempDir dir;
  try {
    scan_image_folder((dir.path() / "missing").string());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing: folder does not exist"), std::string::npos) << e.what();
  }
  try {
    scan_image_folder(dir.str());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no class sub-folders"), std::string::npos) << e.what();
  }
  std::filesystem::create_directories(dir.path() / "0");
  EXPECT_THROW(scan_image_folder(dir.str()), Error);
}

TEST(FolderWalk, LinkLoopIsAnErrorNamingTheLink) {
  TempDir dir;
  testing::write_image(dir.path() / "train" / "0" / "a.png", tiny());
  testing::write_image(dir.path() / "train" / "1" / "b.png", tiny());
  // A link to a sibling folder is walked (its files appear twice); a link to an ancestor never ends.
  std::filesystem::create_directory_symlink(dir.path() / "train" / "1", dir.path() / "train" / "0" / "also_1");
  const FolderWalk walk = walk_folder(dir.path() / "train");
  EXPECT_EQ(walk.files.size(), 3u);
  EXPECT_EQ(walk.directories.size(), 3u);
  const auto link = dir.path() / "train" / "1" / "back_up";
  std::filesystem::create_directory_symlink(dir.path() / "train", link);
  try {
    scan_image_folder((dir.path() / "train").string());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    // Each class folder is walked on its own: from train/0 the loop closes one level below the link.
    EXPECT_NE(std::string(e.what()).find("back_up/0: link loop (leads back to "), std::string::npos) << e.what();
  }
}

TEST(FolderWalk, UnreadableFolderIsAnErrorNamingIt) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every folder";
  TempDir dir;
  testing::write_image(dir.path() / "train" / "0" / "a.png", tiny());
  testing::write_image(dir.path() / "train" / "1" / "b.png", tiny());
  std::filesystem::permissions(dir.path() / "train" / "1", std::filesystem::perms::none);
  try {
    walk_folder(dir.path() / "train");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("1: cannot read the folder (Permission denied)"), std::string::npos) << e.what();
  }
  std::filesystem::permissions(dir.path() / "train" / "1", std::filesystem::perms::owner_all);
}

TEST(ImageFolder, FlatFolderAllowedForTesting) {
  TempDir dir;
  testing::write_image(dir.path() / "x.png", tiny());
  testing::write_image(dir.path() / "a.bmp", tiny());
  const ImageFolder folder = scan_image_folder(dir.str(), FolderLayout::kClassSubfoldersOrFlat);
  EXPECT_TRUE(folder.class_names.empty());
  ASSERT_EQ(folder.samples.size(), 2u);
  EXPECT_EQ(folder.samples[0].relative, "a.bmp");
  EXPECT_EQ(folder.samples[0].label, -1);
}

TEST(ImageReader, ReportsBrokenFilesAndConvertsChannels) {
  TempDir dir;
  testing::write_bytes(dir.path() / "zero.jpg", "");
  testing::write_bytes(dir.path() / "text.png", "hello, I am not a PNG");
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", cv::Mat(64, 64, CV_8UC3, cv::Scalar(10, 20, 30)), jpeg);
  testing::write_bytes(dir.path() / "truncated.jpg", std::string(jpeg.begin(), jpeg.begin() + 40));
  for (const char* name : {"zero.jpg", "text.png", "truncated.jpg", "absent.png"}) {
    try {
      read_rgb_image((dir.path() / name).string());
      FAIL() << name << " should not decode";
    } catch (const ImageReadError& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
  // grey, RGBA and 1x1 images decode to 3-channel RGB
  testing::write_image(dir.path() / "grey.png", cv::Mat(3, 5, CV_8UC1, cv::Scalar(77)));
  cv::Mat bgra(2, 2, CV_8UC4, cv::Scalar(10, 20, 30, 0));
  testing::write_image(dir.path() / "rgba.png", bgra);
  testing::write_image(dir.path() / "one.png", cv::Mat(1, 1, CV_8UC3, cv::Scalar(1, 2, 3)));
  const cv::Mat grey = read_rgb_image((dir.path() / "grey.png").string());
  EXPECT_EQ(grey.type(), CV_8UC3);
  EXPECT_EQ(grey.at<cv::Vec3b>(1, 1), cv::Vec3b(77, 77, 77));
  const cv::Mat rgba = read_rgb_image((dir.path() / "rgba.png").string());
  EXPECT_EQ(rgba.at<cv::Vec3b>(0, 0), cv::Vec3b(30, 20, 10));  // RGB order, alpha dropped
  EXPECT_EQ(read_rgb_image((dir.path() / "one.png").string()).size(), cv::Size(1, 1));
}

// The bad-input fixtures (tests/data/bad_images, made with Pillow): what Pillow opens decodes here, what
// it refuses is an ImageReadError naming the file.
TEST(ImageReader, BadInputFixtures) {
  const std::filesystem::path fixtures = std::filesystem::path(kSourceDir) / "tests" / "data" / "bad_images";
  const std::pair<const char*, cv::Size> readable[] = {
      {"grey16.png", {64, 48}}, {"cmyk.jpg", {64, 48}}, {"one_pixel.png", {1, 1}}, {"huge_6000.png", {6000, 6000}}};
  for (const auto& [name, size] : readable) {
    const cv::Mat rgb = read_rgb_image((fixtures / name).string());
    EXPECT_EQ(rgb.type(), CV_8UC3) << name;
    EXPECT_EQ(rgb.size(), size) << name;
  }
  // 16-bit grey is scaled to 8 bits, not clipped: its ramp still spans dark to bright.
  double low = 0, high = 0;
  cv::minMaxLoc(read_rgb_image((fixtures / "grey16.png").string()).reshape(1), &low, &high);
  EXPECT_LT(low, 10);
  EXPECT_GT(high, 245);
  const std::pair<const char*, const char*> refused[] = {{"truncated.jpg", "truncated JPEG"},
                                                         {"zero_bytes.jpg", "empty file (0 bytes)"},
                                                         {"text_named.jpg", "not a decodable image"}};
  for (const auto& [name, reason] : refused) {
    try {
      read_rgb_image((fixtures / name).string());
      ADD_FAILURE() << name << " should not decode";
    } catch (const ImageReadError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string(name) + ": " + reason), std::string::npos) << e.what();
    }
  }
}

TEST(Resize, PillowNearestIndices) {
  // 5 columns -> 3: sources floor((j + 0.5) * 5 / 3) = 0, 2, 4; 3 -> 7: floor((j + 0.5) * 3 / 7) = 0,0,1,1,1,2,2
  cv::Mat row(1, 5, CV_8UC3);
  for (int c = 0; c < 5; ++c) row.at<cv::Vec3b>(0, c) = cv::Vec3b(c, c, c);
  const cv::Mat down = resize_nearest_pillow(row, 3, 1);
  EXPECT_EQ(down.at<cv::Vec3b>(0, 0)[0], 0);
  EXPECT_EQ(down.at<cv::Vec3b>(0, 1)[0], 2);
  EXPECT_EQ(down.at<cv::Vec3b>(0, 2)[0], 4);
  const cv::Mat up = resize_nearest_pillow(down, 7, 2);
  const std::vector<int> expected = {0, 0, 2, 2, 2, 4, 4};
  for (int c = 0; c < 7; ++c) EXPECT_EQ(up.at<cv::Vec3b>(1, c)[0], expected[c]) << c;
  EXPECT_THROW(parse_resize_method("cubic"), Error);
}

}  // namespace
}  // namespace cargovision
