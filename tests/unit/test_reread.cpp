// Rereading uncertain crops (ocr/reread.h): which crops are read again, in which variants, and which
// reading is kept; and the option that turns it off.
#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "cargovision/core/error.h"
#include "cargovision/ocr/options.h"
#include "cargovision/ocr/recognize.h"
#include "cargovision/ocr/reread.h"

namespace ocr = cargovision::ocr;

namespace {

TEST(Reread, VariantsKeepTheCropsTypeAndFrameItAnew) {
  cv::Mat crop(24, 100, CV_8UC1, cv::Scalar(90));
  crop(cv::Rect(20, 6, 60, 12)).setTo(160);
  const auto variants = ocr::reading_variants(crop);
  ASSERT_EQ(variants.size(), 7u);
  for (const cv::Mat& variant : variants) {
    EXPECT_EQ(variant.type(), crop.type());
    EXPECT_FALSE(variant.empty());
  }
  EXPECT_EQ(variants[0].size(), cv::Size(104, 28)) << "framed wider by a twelfth of the height";
  EXPECT_EQ(variants[1].size(), cv::Size(92, 22)) << "framed tighter by a 25th on every side";
  EXPECT_EQ(variants[2].size(), cv::Size(110, 24)) << "wider at the sides by a 20th of the width";
  EXPECT_EQ(variants[3].size(), crop.size());
  double low = 0, high = 0;
  cv::minMaxLoc(variants[5], &low, &high);
  EXPECT_EQ(low, 0);
  EXPECT_EQ(high, 255) << "the contrast stretched to the full range";
  // Sharpening raises the step at an edge: the bright patch's inner border overshoots.
  EXPECT_GT(variants[6].at<unsigned char>(12, 20), 160);

  const cv::Mat colour(3, 3, CV_8UC3, cv::Scalar(10, 20, 30));
  const auto tiny = ocr::reading_variants(colour);
  EXPECT_EQ(tiny.size(), 6u) << "too small to frame tighter";
  for (const cv::Mat& variant : tiny) EXPECT_EQ(variant.type(), CV_8UC3);
  EXPECT_TRUE(ocr::reading_variants(cv::Mat()).empty());
}

// A reader that reads each crop by its width: the most confident reading of each uncertain crop wins, crops
// read with confidence are never read again.
TEST(Reread, OnlyUncertainCropsAreReadAgainAndTheMostConfidentReadingIsKept) {
  const std::vector<cv::Mat> crops{cv::Mat(20, 60, CV_8UC1, cv::Scalar(1)), cv::Mat(20, 80, CV_8UC1, cv::Scalar(2)),
                                   cv::Mat(20, 100, CV_8UC1, cv::Scalar(3))};
  ocr::Recognition first;
  first.predictions = {"3801", "983S11B41", "FB875209"};
  first.confidence = {0.95, 0.4, 0.3};
  std::vector<int> widths;
  const ocr::CropReader read = [&](const std::vector<cv::Mat>& variants) {
    ocr::Recognition again;
    for (const cv::Mat& variant : variants) {
      widths.push_back(variant.cols);
      const bool second_crop = cv::mean(variant)[0] < 2.5;
      // The second crop: its turned variants (same size as the crop) read it right, more confidently.
      if (second_crop && variant.cols == 80 && variant.rows == 20) {
        again.predictions.push_back("983S11B41X");
        again.confidence.push_back(0.7);
      } else {
        again.predictions.push_back("?");
        again.confidence.push_back(0.1);
      }
    }
    return again;
  };
  EXPECT_EQ(ocr::reread_uncertain(first, crops, 0.6, read), 1u);
  EXPECT_EQ(widths.size(), 14u) << "seven variants each of the two uncertain crops";
  EXPECT_EQ(std::count(widths.begin(), widths.end(), 60), 0) << "the confident crop is not read again";
  EXPECT_EQ(first.predictions, (std::vector<std::string>{"3801", "983S11B41X", "FB875209"}));
  EXPECT_DOUBLE_EQ(first.confidence[1], 0.7);
  EXPECT_DOUBLE_EQ(first.confidence[2], 0.3) << "no variant read it more confidently: the first reading stays";

  widths.clear();
  EXPECT_EQ(ocr::reread_uncertain(first, crops, 0.0, read), 0u);
  EXPECT_TRUE(widths.empty()) << "--reread_below 0 reads nothing again";

  const ocr::CropReader short_reader = [](const std::vector<cv::Mat>&) { return ocr::Recognition{}; };
  try {
    ocr::reread_uncertain(first, crops, 0.6, short_reader);
    FAIL() << "a reader that returned too few readings went unnoticed";
  } catch (const cargovision::Error& e) {
    EXPECT_NE(std::string(e.what()).find("returned 0 readings for 7 crops"), std::string::npos) << e.what();
  }
}

TEST(Reread, TheThresholdIsAConfidence) {
  ocr::OcrDemoOptions options;
  options.saved_model = "model.pth";
  options.image_folder = ".";
  EXPECT_DOUBLE_EQ(options.reread_below, 0.6);
  options.reread_below = 1.5;
  try {
    ocr::finalize(options);
    FAIL() << "a threshold above 1 was taken";
  } catch (const cargovision::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--reread_below must be a confidence in [0, 1], got 1.5"), std::string::npos)
        << e.what();
  }
}

}  // namespace
