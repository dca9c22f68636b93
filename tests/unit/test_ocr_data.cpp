#include <gtest/gtest.h>

#include <thread>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "cargovision/core/error.h"
#include "cargovision/data/pillow.h"
#include "cargovision/io/lmdb_store.h"
#include "cargovision/ocr/align_collate.h"
#include "cargovision/ocr/batch_loader.h"
#include "cargovision/ocr/create_lmdb.h"
#include "cargovision/ocr/lmdb_dataset.h"
#include "test_config.h"
#include "test_support.h"

namespace cv_ = cargovision;
namespace fs = std::filesystem;
using cv_::testing::TempDir;

namespace {

cv::Mat text_crop(const std::string& text, int width, int height, unsigned seed) {
  cv::Mat image(height, width, CV_8UC3, cv::Scalar(40 + seed % 50, 90, 160));
  cv::putText(image, text, {2, height - 4}, cv::FONT_HERSHEY_SIMPLEX, height / 30.0, cv::Scalar(240, 240, 240), 1);
  return image;
}

// Writes crops and a gt file; returns the gt path.
fs::path make_crop_folder(const fs::path& root, const std::vector<std::string>& labels, int width = 90,
                          int height = 30) {
  fs::create_directories(root / "images");
  std::ofstream gt(root / "gt.txt");
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string name = "images/crop_" + std::to_string(i) + ".png";
    cv_::testing::write_image(root / name, text_crop(labels[i], width, height, static_cast<unsigned>(i)));
    gt << name << '\t' << labels[i] << '\n';
  }
  return root / "gt.txt";
}

std::string expect_error(const std::function<void()>& body) {
  try {
    body();
  } catch (const cv_::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected cargovision::Error";
  return "";
}

cv_::ocr::OcrDataOptions small_options() {
  cv_::ocr::OcrDataOptions options;
  options.workers = 2;
  return options;
}

}  // namespace

TEST(CreateLmdb, KeysAreTheOriginalsByteForByte) {
  TempDir dir;
  const auto gt = make_crop_folder(dir.path() / "in", {"3801", "FB875209", "983 S11"});
  const auto summary = cv_::ocr::create_lmdb_dataset((dir.path() / "in").string(), gt.string(), (dir.path() / "db").string(), true);
  EXPECT_EQ(summary.written, 3u);
  EXPECT_EQ(summary.skipped, 0u);
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find("db.partial"), std::string::npos) << "scratch left behind";
  }

  cv_::LmdbReader reader((dir.path() / "db").string());
  EXPECT_EQ(reader.get("num-samples").value(), "3");
  EXPECT_EQ(reader.get("label-000000001").value(), "3801");
  EXPECT_EQ(reader.get("label-000000003").value(), "983 S11");  // spaces survive
  EXPECT_EQ(reader.get("image-000000002").value(),
            cv_::testing::read_text(dir.path() / "in" / "images" / "crop_1.png"));  // the file's own bytes
  EXPECT_FALSE(reader.get("image-000000000").has_value());  // 1-based
  EXPECT_FALSE(reader.get("label-000000004").has_value());
  EXPECT_EQ(cv_::lmdb_image_key(12), "image-000000012");
}

TEST(CreateLmdb, SkipsMissingAndInvalidImagesAndCountsThem) {
  TempDir dir;
  const auto gt = make_crop_folder(dir.path(), {"1111", "2222"});
  cv_::testing::write_bytes(dir.path() / "broken.jpg", "not a jpeg at all");
  std::ofstream(gt, std::ios::app) << "missing.png\t3333\nbroken.jpg\t4444\n\n";
  const auto summary = cv_::ocr::create_lmdb_dataset(dir.str(), gt.string(), (dir.path() / "db").string(), true);
  EXPECT_EQ(summary.written, 2u);
  EXPECT_EQ(summary.skipped, 2u);
  cv_::LmdbReader reader((dir.path() / "db").string());
  EXPECT_EQ(reader.get("num-samples").value(), "2");
}

TEST(CreateLmdb, MalformedGtLinesNameTheirLineNumber) {
  TempDir dir;
  cv_::testing::write_bytes(dir.path() / "gt.txt", "a.png\tabc\nb.png abc\n");
  EXPECT_NE(expect_error([&] { cv_::ocr::read_gt_file((dir.path() / "gt.txt").string()); }).find("gt.txt:2: no tab"),
            std::string::npos);
  cv_::testing::write_bytes(dir.path() / "gt2.txt", "a.png\tab\xff\n");
  EXPECT_NE(expect_error([&] { cv_::ocr::read_gt_file((dir.path() / "gt2.txt").string()); }).find("gt2.txt:1: invalid UTF-8"),
            std::string::npos);
  cv_::testing::write_bytes(dir.path() / "gt3.txt", "\xEF\xBB\xBF" "a.png\tlabel with\ttab\r\n");
  const auto entries = cv_::ocr::read_gt_file((dir.path() / "gt3.txt").string());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].image_path, "a.png");
  EXPECT_EQ(entries[0].label, "label with\ttab");  // split at the first tab only
}

TEST(CreateLmdb, EmptyLabelsAreSkippedAndNothingLeftIsAnError) {
  TempDir dir;
  const auto gt = make_crop_folder(dir.path() / "in", {"1111", "2222"});
  const auto db = (dir.path() / "db").string();
  cv_::ocr::create_lmdb_dataset((dir.path() / "in").string(), gt.string(), db, true);
  cv_::testing::write_bytes(dir.path() / "empty.txt", "images/crop_0.png\t\nimages/crop_1.png\t2222\n");
  const auto summary = cv_::ocr::create_lmdb_dataset((dir.path() / "in").string(), (dir.path() / "empty.txt").string(),
                                                (dir.path() / "db2").string(), true);
  EXPECT_EQ(summary.written, 1u);
  EXPECT_EQ(summary.skipped, 1u);
  // Every line skipped: an error, and the LMDB already at the output stays as it was.
  cv_::testing::write_bytes(dir.path() / "gone.txt", "absent_1.png\t1\nabsent_2.png\t2\n");
  const std::string message =
      expect_error([&] { cv_::ocr::create_lmdb_dataset((dir.path() / "in").string(), (dir.path() / "gone.txt").string(), db, true); });
  EXPECT_NE(message.find("all 2 images listed in"), std::string::npos) << message;
  EXPECT_EQ(cv_::LmdbReader(db).get("num-samples").value(), "2");
}

// Two create_lmdb on one output at once: the result is one of the two datasets, whole, never a mix.
TEST(CreateLmdb, ConcurrentRunsOnOneOutputNeverMix) {
  TempDir dir;
  const auto small_gt = make_crop_folder(dir.path() / "small", {"1", "2", "3"});
  const auto large_gt = make_crop_folder(dir.path() / "large", std::vector<std::string>(30, "77"));
  const auto db = (dir.path() / "db").string();
  std::thread other([&] { cv_::ocr::create_lmdb_dataset((dir.path() / "large").string(), large_gt.string(), db, true, 4); });
  cv_::ocr::create_lmdb_dataset((dir.path() / "small").string(), small_gt.string(), db, true, 1);
  other.join();
  cv_::LmdbReader reader(db);
  const std::string count = reader.get("num-samples").value();
  ASSERT_TRUE(count == "3" || count == "30") << count;
  const std::string last_label = reader.get(count == "3" ? "label-000000003" : "label-000000030").value();
  EXPECT_EQ(last_label, count == "3" ? "3" : "77");
  EXPECT_FALSE(reader.get("label-000000004").has_value() && count == "3");
}

TEST(CreateLmdb, SeedLayoutWritesOneLmdbPerSubFolder) {
  TempDir dir;
  make_crop_folder(dir.path() / "training" / "01", {"3801", "3802"});
  make_crop_folder(dir.path() / "training" / "02", {"983S11B41"});
  cv_::ocr::CreateLmdbOptions options;
  options.inputPath = (dir.path() / "training").string();
  options.outputPath = (dir.path() / "lmdb").string();
  const auto summaries = cv_::ocr::create_lmdb(options);
  ASSERT_EQ(summaries.size(), 2u);
  EXPECT_EQ(cv_::LmdbReader((dir.path() / "lmdb" / "01").string()).get("num-samples").value(), "2");
  EXPECT_EQ(cv_::LmdbReader((dir.path() / "lmdb" / "02").string()).get("num-samples").value(), "1");
}

TEST(CreateLmdb, ReplacesAnExistingDatasetOnlyWhenComplete) {
  TempDir dir;
  const auto gt = make_crop_folder(dir.path() / "in", {"1", "2", "3"});
  const auto db = (dir.path() / "db").string();
  cv_::ocr::create_lmdb_dataset((dir.path() / "in").string(), gt.string(), db, true);
  // A failing run (gt line without a tab) must leave the existing dataset untouched.
  cv_::testing::write_bytes(dir.path() / "bad.txt", "images/crop_0.png\t1\nno tab here\n");
  expect_error([&] { cv_::ocr::create_lmdb_dataset((dir.path() / "in").string(), (dir.path() / "bad.txt").string(), db, true); });
  EXPECT_EQ(cv_::LmdbReader(db).get("num-samples").value(), "3");
  // Small commit batches and map growth still give every sample.
  std::vector<std::string> labels(40, "12");
  const auto big_gt = make_crop_folder(dir.path() / "big", labels, 400, 100);
  const auto summary = cv_::ocr::create_lmdb_dataset((dir.path() / "big").string(), big_gt.string(), db, true, 7);
  EXPECT_EQ(summary.written, 40u);
  EXPECT_EQ(cv_::LmdbReader(db).get("num-samples").value(), "40");
}

TEST(LmdbDataset, FiltersByLengthAndCharacterSet) {
  TempDir dir;
  const auto gt = make_crop_folder(dir.path(), {"3801", "FB875209", "abc!", "12345678901234567890123456", "Ab"});
  cv_::ocr::create_lmdb_dataset(dir.str(), gt.string(), (dir.path() / "db").string(), true);
  auto options = small_options();
  cv_::ocr::LmdbDataset dataset((dir.path() / "db").string(), options);
  EXPECT_EQ(dataset.stored_samples(), 5u);
  EXPECT_EQ(dataset.size(), 3u);               // 3801, FB875209, Ab
  EXPECT_EQ(dataset.filtered_too_long(), 1u);  // 26 > batch_max_length 25
  EXPECT_EQ(dataset.filtered_characters(), 1u);  // '!' not in the default set
  EXPECT_EQ(dataset.get(1).label, "fb875209");  // lower-cased when not sensitive
  EXPECT_EQ(dataset.get(0).image.type(), CV_8UC1);
  EXPECT_EQ(dataset.get(0).image.cols, 90);

  options.sensitive = true;
  options.character = cv_::ocr::kSensitiveCharacters;
  cv_::ocr::LmdbDataset sensitive((dir.path() / "db").string(), options);
  EXPECT_EQ(sensitive.size(), 4u);
  EXPECT_EQ(sensitive.get(1).label, "FB875209");
  EXPECT_EQ(sensitive.get(2).label, "abc!");

  options = small_options();
  options.data_filtering_off = true;
  options.rgb = true;
  cv_::ocr::LmdbDataset unfiltered((dir.path() / "db").string(), options);
  EXPECT_EQ(unfiltered.size(), 5u);
  EXPECT_EQ(unfiltered.get(2).label, "abc");  // characters outside the set are removed from the label
  EXPECT_EQ(unfiltered.get(0).image.type(), CV_8UC3);
}

TEST(LmdbDataset, CorruptImageGivesDummySample) {
  TempDir dir;
  cv_::LmdbWriter writer((dir.path() / "db").string());
  writer.commit({{"image-000000001", "garbage"}, {"label-000000001", "abc"}, {"num-samples", "1"}});
  auto options = small_options();
  cv_::ocr::LmdbDataset dataset((dir.path() / "db").string(), options);
  const auto sample = dataset.get(0);
  EXPECT_TRUE(sample.dummy);
  EXPECT_EQ(sample.label, "dummylabel");  // "[dummy_label]" through the default character filter
  EXPECT_EQ(sample.image.size(), cv::Size(100, 32));
  EXPECT_EQ(cv::countNonZero(sample.image), 0);
  dataset.get(0);
  EXPECT_EQ(dataset.corrupt_images(), 1u);
}

TEST(LmdbDataset, BadStoresGiveClearErrors) {
  TempDir dir;
  auto options = small_options();
  EXPECT_NE(expect_error([&] { cv_::ocr::LmdbDataset((dir.path() / "nothing").string(), options); }).find("does not exist"),
            std::string::npos);
  fs::create_directories(dir.path() / "empty");
  EXPECT_NE(expect_error([&] { cv_::ocr::LmdbDataset((dir.path() / "empty").string(), options); }).find("no data.mdb"),
            std::string::npos);
  {
    cv_::LmdbWriter writer((dir.path() / "nocount").string());
    writer.commit({{"label-000000001", "abc"}});
  }
  EXPECT_NE(expect_error([&] { cv_::ocr::LmdbDataset((dir.path() / "nocount").string(), options); }).find("no 'num-samples'"),
            std::string::npos);
  {
    cv_::LmdbWriter writer((dir.path() / "nolabel").string());
    writer.commit({{"label-000000001", "abc"}, {"num-samples", "2"}});
  }
  EXPECT_NE(expect_error([&] { cv_::ocr::LmdbDataset((dir.path() / "nolabel").string(), options); })
                .find("key label-000000002 is missing"),
            std::string::npos);
  {
    cv_::LmdbWriter writer((dir.path() / "badutf").string());
    writer.commit({{"label-000000001", "a\xc3"}, {"num-samples", "1"}});
  }
  EXPECT_NE(expect_error([&] { cv_::ocr::LmdbDataset((dir.path() / "badutf").string(), options); }).find("invalid UTF-8"),
            std::string::npos);
}

TEST(HierarchicalDataset, SelectsLeafLmdbsBySubstringAndExplainsEmptyResults) {
  TempDir dir;
  for (const char* name : {"01", "02", "03"}) {
    const auto folder = dir.path() / "src" / name;
    const auto gt = make_crop_folder(folder, {std::string(name) + "11", std::string(name) + "22"});
    cv_::ocr::create_lmdb_dataset(folder.string(), gt.string(), (dir.path() / "train" / name).string(), true);
  }
  auto options = small_options();
  const auto all = cv_::ocr::hierarchical_dataset((dir.path() / "train").string(), options);
  EXPECT_EQ(all.dataset.size(), 6u);
  EXPECT_NE(all.log.find("sub-directory:\t/02\t num samples: 2"), std::string::npos);
  const auto two = cv_::ocr::hierarchical_dataset((dir.path() / "train").string(), options, {"03"});
  ASSERT_EQ(two.dataset.size(), 2u);
  EXPECT_EQ(two.dataset.get(1).label, "0322");
  EXPECT_NE(expect_error([&] { cv_::ocr::hierarchical_dataset((dir.path() / "train").string(), options, {"MJ"}); })
                .find("no LMDB dataset matches select_data 'MJ'"),
            std::string::npos);
  options.batch_max_length = 3;
  EXPECT_NE(expect_error([&] { cv_::ocr::hierarchical_dataset((dir.path() / "train").string(), options, {"01"}); })
                .find("2 longer than batch_max_length 3"),
            std::string::npos);
}

TEST(BatchBalanced, SeedsExampleGives31Plus31Plus2) {
  EXPECT_EQ(cv_::ocr::per_dataset_batch_size(64, 0.482), 31);
  EXPECT_EQ(cv_::ocr::per_dataset_batch_size(64, 0.036), 2);
  EXPECT_EQ(cv_::ocr::per_dataset_batch_size(64, 0.001), 1);   // at least one
  EXPECT_EQ(cv_::ocr::per_dataset_batch_size(5, 0.5), 2);      // Python rounds half to even
  EXPECT_EQ(cv_::ocr::per_dataset_batch_size(7, 0.5), 4);

  TempDir dir;
  const std::map<std::string, int> counts = {{"01", 40}, {"02", 35}, {"03", 3}};
  for (const auto& [name, count] : counts) {
    std::vector<std::string> labels;
    for (int i = 0; i < count; ++i) labels.push_back(name + std::to_string(i));
    const auto folder = dir.path() / "src" / name;
    const auto gt = make_crop_folder(folder, labels, 60, 20);
    cv_::ocr::create_lmdb_dataset(folder.string(), gt.string(), (dir.path() / "train" / name).string(), true);
  }
  auto options = small_options();
  options.train_data = (dir.path() / "train").string();
  options.select_data = "01-02-03";
  options.batch_ratio = "0.482-0.482-0.036";
  options.batch_size = 64;
  cv_::ocr::BatchBalancedLoader loader(options, 1111);
  EXPECT_EQ(loader.total_batch_size(), 64);
  EXPECT_NE(loader.log().find("Total_batch_size: 31+31+2 = 64"), std::string::npos);
  EXPECT_NE(loader.log().find("num samples of 03 per batch: 64 x 0.036 (batch_ratio) = 2"), std::string::npos);

  // First batch: 31 + 31 + 2 from the three selections; 03 (3 samples) restarts after 2 batches
  // (2 + 1), and every pass of 03 covers all three samples.
  std::multiset<std::string> seen_03;
  for (int b = 0; b < 4; ++b) {
    const auto batch = loader.next();
    std::map<std::string, int> per_selection;
    for (const auto& label : batch.labels) ++per_selection[label.substr(0, 2)];
    if (b == 0) {
      EXPECT_EQ(batch.images.sizes(), (std::vector<int64_t>{64, 1, 32, 100}));
      EXPECT_EQ(per_selection["01"], 31);
      EXPECT_EQ(per_selection["02"], 31);
    }
    EXPECT_EQ(per_selection["03"], b % 2 == 0 ? 2 : 1);
    for (const auto& label : batch.labels) {
      if (label.rfind("03", 0) == 0) seen_03.insert(label);
    }
    EXPECT_GE(batch.images.min().item<float>(), -1.0f);
    EXPECT_LE(batch.images.max().item<float>(), 1.0f);
  }
  EXPECT_EQ(seen_03, (std::multiset<std::string>{"030", "030", "031", "031", "032", "032"}));

  options.batch_ratio = "0.5-0.5";
  EXPECT_NE(expect_error([&] { cv_::ocr::BatchBalancedLoader(options, 1); }).find("has 2 value(s) but --select_data"),
            std::string::npos);
}

TEST(AlignCollate, PadKeepsRatioAndRepeatsTheLastColumn) {
  cv_::ocr::AlignCollateOptions options{32, 100, true};
  EXPECT_EQ(cv_::ocr::pad_resized_width(60, 30, options), 64);    // ceil(32 * 2)
  EXPECT_EQ(cv_::ocr::pad_resized_width(61, 30, options), 66);    // ceil(65.07)
  EXPECT_EQ(cv_::ocr::pad_resized_width(400, 30, options), 100);  // capped at imgW
  cv::Mat crop(30, 60, CV_8UC1);
  for (int x = 0; x < 60; ++x) crop.col(x).setTo(x * 4);
  const auto batch = cv_::ocr::align_collate({crop}, options);
  ASSERT_EQ(batch.sizes(), (std::vector<int64_t>{1, 1, 32, 100}));
  const cv::Mat resized = cv_::resize_bicubic_pillow(crop, 64, 32);
  for (int y : {0, 31}) {
    for (int x : {0, 63, 64, 99}) {
      const int source_x = std::min(x, 63);
      EXPECT_FLOAT_EQ(batch[0][0][y][x].item<float>(), (resized.at<uchar>(y, source_x) / 255.0f - 0.5f) / 0.5f);
    }
  }
  // Without PAD: a stretch to the full width, values in [-1, 1].
  options.PAD = false;
  cv::Mat white(10, 10, CV_8UC1, cv::Scalar(255));
  const auto stretched = cv_::ocr::align_collate({white}, options);
  EXPECT_FLOAT_EQ(stretched.min().item<float>(), 1.0f);
}

TEST(PillowParity, GreyAndBicubicMatchPillowExactly) {
  if (std::string(cv_::kPilPython).empty()) GTEST_SKIP() << "python3-pil not installed";
  TempDir dir;
  cv::RNG rng(42);
  cv::Mat bgr(23, 157, CV_8UC3);
  rng.fill(bgr, cv::RNG::UNIFORM, 0, 256);
  cv::GaussianBlur(bgr, bgr, cv::Size(3, 3), 0);
  cv::putText(bgr, "983S11B41", {3, 18}, cv::FONT_HERSHEY_SIMPLEX, 0.6, cv::Scalar(255, 255, 255), 2);
  cv_::testing::write_image(dir.path() / "in.png", bgr);
  const std::vector<std::pair<int, int>> sizes = {{100, 32}, {40, 12}, {320, 64}, {157, 32}};
  std::string command = std::string(cv_::kPilPython) + " " + cv_::kSourceDir + "/tests/python/pillow_reference.py " +
                        (dir.path() / "in.png").string() + " " + dir.str();
  for (const auto& [w, h] : sizes) command += " " + std::to_string(w) + "x" + std::to_string(h);
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  const cv::Mat grey = cv_::rgb_to_grey_pillow(rgb);
  const auto compare = [&](const cv::Mat& ours, const fs::path& reference) {
    const std::string expected = cv_::testing::read_text(reference);
    ASSERT_EQ(expected.size(), ours.total() * ours.elemSize()) << reference;
    int differing = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) differing += static_cast<uchar>(expected[i]) != ours.data[i];
    EXPECT_EQ(differing, 0) << reference << ": " << differing << " of " << expected.size() << " bytes differ";
  };
  compare(grey, dir.path() / "grey.raw");
  for (const auto& [w, h] : sizes) {
    const std::string suffix = std::to_string(w) + "x" + std::to_string(h) + ".raw";
    compare(cv_::resize_bicubic_pillow(grey, w, h), dir.path() / ("grey_" + suffix));
    compare(cv_::resize_bicubic_pillow(rgb, w, h), dir.path() / ("rgb_" + suffix));
  }
}

TEST(LmdbInterop, PythonLmdbReadsOursAndWeReadTheirs) {
  if (std::string(cv_::kLmdbPython).empty()) GTEST_SKIP() << "python3-lmdb not installed";
  TempDir dir;
  const auto gt = make_crop_folder(dir.path() / "in", {"3801", "FB875209"});
  cv_::ocr::create_lmdb_dataset((dir.path() / "in").string(), gt.string(), (dir.path() / "ours").string(), true);
  const std::string script = std::string(cv_::kSourceDir) + "/tests/python/lmdb_reference.py";
  const std::string listing = (dir.path() / "listing.txt").string();
  ASSERT_EQ(std::system((std::string(cv_::kLmdbPython) + " " + script + " read " + (dir.path() / "ours").string() +
                         " > " + listing).c_str()),
            0);
  const auto size0 = fs::file_size(dir.path() / "in" / "images" / "crop_0.png");
  const auto size1 = fs::file_size(dir.path() / "in" / "images" / "crop_1.png");
  EXPECT_EQ(cv_::testing::read_text(listing),
            "2\n3801\t" + std::to_string(size0) + "\nFB875209\t" + std::to_string(size1) + "\n");

  const std::string theirs = (dir.path() / "theirs").string();
  ASSERT_EQ(std::system((std::string(cv_::kLmdbPython) + " " + script + " write " + theirs + " " +
                         (dir.path() / "in" / "images" / "crop_1.png").string() + " C1051BAA").c_str()),
            0);
  auto options = small_options();
  options.sensitive = true;
  options.character = cv_::ocr::kSensitiveCharacters;
  cv_::ocr::LmdbDataset dataset(theirs, options);
  ASSERT_EQ(dataset.size(), 1u);
  EXPECT_EQ(dataset.get(0).label, "C1051BAA");
  EXPECT_EQ(dataset.get(0).image.cols, 90);
}
