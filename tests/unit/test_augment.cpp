#include <gtest/gtest.h>

#include <cmath>

#include "cargovision/data/augment.h"
#include "cargovision/data/numpy_random.h"

namespace cargovision {
namespace {

// A 5x5 single-pattern RGB float image whose value encodes its position: v = 10 * row + col (+ channel offsets).
cv::Mat position_image(int rows = 5, int cols = 5) {
  cv::Mat image(rows, cols, CV_32FC3);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) image.at<cv::Vec3f>(r, c) = cv::Vec3f(10.f * r + c, 10.f * r + c + 1, 10.f * r + c + 2);
  return image;
}

float value_at(const cv::Mat& image, int r, int c, int k = 0) { return image.at<cv::Vec3f>(r, c)[k]; }

TEST(NumpyRandom, MatchesNumpyLegacyStream) {
  NumpyRandom random(0);  // np.random.seed(0); np.random.random_sample() x3
  EXPECT_DOUBLE_EQ(random.random_sample(), 0.5488135039273248);
  EXPECT_DOUBLE_EQ(random.random_sample(), 0.7151893663724195);
  EXPECT_DOUBLE_EQ(random.random_sample(), 0.6027633760716439);
}

TEST(Augment, DrawsParametersInKerasOrder) {
  // Reference: np.random.seed(42) and keras-preprocessing 1.1.2 get_random_transform on a 224x224 image.
  NumpyRandom random(42);
  const TransformParams p = draw_transform(AugmentOptions{}, 224, 224, random);
  EXPECT_NEAR(p.theta, -5.0183952461055, 1e-12);
  EXPECT_NEAR(p.tx, 40.38400185432849, 1e-10);
  EXPECT_NEAR(p.ty, 20.78665718630189, 1e-10);
  EXPECT_NEAR(p.shear, 0.03946339367881463, 1e-14);
  EXPECT_NEAR(p.zx, 0.8624074561769747, 1e-14);
  EXPECT_NEAR(p.zy, 0.8623978081344811, 1e-14);
  EXPECT_FALSE(p.flip_horizontal);
  ASSERT_TRUE(p.has_brightness);
  EXPECT_NEAR(p.brightness, 1.0404460046972834, 1e-14);
}

TEST(Augment, IdentityMatrixForNeutralParameters) {
  const auto m = sampling_matrix(TransformParams{}, 224, 224, AugmentFlavour::kLegacy);
  const std::array<double, 6> identity = {1, 0, 0, 0, 1, 0};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(m[i], identity[i], 1e-12) << i;
}

TEST(Augment, IntegerRowShiftMovesContentUpAndReplicatesTheEdge) {
  TransformParams p;
  p.tx = 1.0;  // output row r samples input row r + 1
  const cv::Mat out = warp_bilinear(position_image(), sampling_matrix(p, 5, 5, AugmentFlavour::kLegacy));
  for (int r = 0; r < 5; ++r) {
    for (int c = 0; c < 5; ++c) {
      const int source_row = std::min(r + 1, 4);
      EXPECT_FLOAT_EQ(value_at(out, r, c), 10.f * source_row + c) << r << "," << c;
    }
  }
}

TEST(Augment, HalfPixelShiftAveragesNeighbours) {
  TransformParams p;
  p.ty = 0.5;  // columns
  const cv::Mat out = warp_bilinear(position_image(), sampling_matrix(p, 5, 5, AugmentFlavour::kLegacy));
  EXPECT_FLOAT_EQ(value_at(out, 2, 1), 21.5f);
  EXPECT_FLOAT_EQ(value_at(out, 3, 4), 34.f);  // clamped at the right edge
  EXPECT_FLOAT_EQ(value_at(out, 3, 0, 2), 32.5f);
}

TEST(Augment, RotationBy90DegreesAboutKerasCentre) {
  // Legacy centre is (rows/2 + 0.5, cols/2 + 0.5) = (3, 3) on 5x5; R = [[0, -1], [1, 0]] in (row, col):
  // input row = 3 - (c - 3) = 6 - c, input col = 3 + (r - 3) = r, clamped to [0, 4].
  TransformParams p;
  p.theta = 90.0;
  const cv::Mat out = warp_bilinear(position_image(), sampling_matrix(p, 5, 5, AugmentFlavour::kLegacy));
  for (int r = 0; r < 5; ++r) {
    for (int c = 0; c < 5; ++c) {
      const int in_row = std::min(6 - c, 4);
      EXPECT_NEAR(value_at(out, r, c), 10.f * in_row + r, 1e-4) << r << "," << c;
    }
  }
}

TEST(Augment, ZoomScalesAboutTheCentre) {
  TransformParams p;
  p.zx = 0.5;  // rows: input row = 3 + 0.5 * (r - 3)
  const cv::Mat out = warp_bilinear(position_image(), sampling_matrix(p, 5, 5, AugmentFlavour::kLegacy));
  EXPECT_FLOAT_EQ(value_at(out, 1, 2), 10.f * 2.0f + 2);
  EXPECT_FLOAT_EQ(value_at(out, 0, 2), 10.f * 1.5f + 2);
  EXPECT_FLOAT_EQ(value_at(out, 4, 0), 10.f * 3.5f);
}

TEST(Augment, ShearUsesDegrees) {
  TransformParams p;
  p.shear = 0.2;  // the seed's shear_range: sin(0.2 deg) * 112 px < 0.4 px
  const auto m = sampling_matrix(p, 224, 224, AugmentFlavour::kLegacy);
  EXPECT_NEAR(m[1], -std::sin(0.2 * M_PI / 180.0), 1e-15);
  EXPECT_NEAR(m[4], std::cos(0.2 * M_PI / 180.0), 1e-15);
}

TEST(Augment, ModernFlavourCentresOnPixelCentres) {
  TransformParams p;
  p.theta = 180.0;  // true centre (2, 2) on 5x5: out(r, c) = in(4 - r, 4 - c)
  const cv::Mat out = warp_bilinear(position_image(), sampling_matrix(p, 5, 5, AugmentFlavour::kModern));
  EXPECT_NEAR(value_at(out, 0, 0), 44.f, 1e-4);
  EXPECT_NEAR(value_at(out, 1, 3), 31.f, 1e-4);
}

TEST(Augment, LegacyBrightnessStretchesThenScalesAndTruncates) {
  cv::Mat image(1, 2, CV_32FC3);
  image.at<cv::Vec3f>(0, 0) = cv::Vec3f(50, 100, 150);
  image.at<cv::Vec3f>(0, 1) = cv::Vec3f(50, 75, 150);
  cv::Mat brighter = image.clone();
  apply_brightness(brighter, 1.2, AugmentFlavour::kLegacy);
  // stretch: (v - 50) / 100 * 255 -> 0, 127.5, 255 and 0, 63.75, 255; truncate; x1.2, truncate, clip
  EXPECT_FLOAT_EQ(brighter.at<cv::Vec3f>(0, 0)[0], 0.f);
  EXPECT_FLOAT_EQ(brighter.at<cv::Vec3f>(0, 0)[1], 152.f);  // trunc(127 * 1.2 = 152.4)
  EXPECT_FLOAT_EQ(brighter.at<cv::Vec3f>(0, 0)[2], 255.f);  // 306 clipped
  EXPECT_FLOAT_EQ(brighter.at<cv::Vec3f>(0, 1)[1], 75.f);   // trunc(63 * 1.2 = 75.6)
  cv::Mat darker = image.clone();
  apply_brightness(darker, 0.8, AugmentFlavour::kLegacy);
  EXPECT_FLOAT_EQ(darker.at<cv::Vec3f>(0, 0)[1], 101.f);  // trunc(127 * 0.8 = 101.6)
  EXPECT_FLOAT_EQ(darker.at<cv::Vec3f>(0, 0)[2], 204.f);
}

TEST(Augment, ModernBrightnessRestoresTheValueRange) {
  cv::Mat image(1, 1, CV_32FC3, cv::Scalar(50, 100, 150));
  apply_brightness(image, 1.0, AugmentFlavour::kModern);
  EXPECT_NEAR(image.at<cv::Vec3f>(0, 0)[0], 50.f, 1e-4);
  EXPECT_NEAR(image.at<cv::Vec3f>(0, 0)[1], 127.f / 255.f * 100.f + 50.f, 1e-3);
  EXPECT_NEAR(image.at<cv::Vec3f>(0, 0)[2], 150.f, 1e-4);
}

TEST(Augment, ValidationRejectsBadRanges) {
  AugmentOptions options;
  options.zoom_range = 1.5;
  EXPECT_THROW(validate(options), std::exception);
  options = AugmentOptions{};
  options.brightness_range = {1.2, 0.8};
  EXPECT_THROW(validate(options), std::exception);
  options = AugmentOptions{};
  options.flavour = "fancy";
  EXPECT_THROW(validate(options), std::exception);
}

}  // namespace
}  // namespace cargovision
