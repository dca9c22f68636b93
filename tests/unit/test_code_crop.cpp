#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <regex>

#include "cargovision/data/numpy_random.h"
#include "cargovision/ocr/create_lmdb.h"
#include "cargovision/synth/code_crop.h"
#include "test_support.h"

namespace cv_ = cargovision;
namespace fs = std::filesystem;

namespace {

// ISO 6346 worked by hand: letters take 10..38 skipping multiples of 11, weights 2^i, sum mod 11 mod 10.
int naive_check_digit(const std::string& first_ten) {
  std::map<char, int> value;
  int next = 10;
  for (char c = 'A'; c <= 'Z'; ++c) {
    if (next % 11 == 0) ++next;
    value[c] = next++;
  }
  int sum = 0;
  for (int i = 0; i < 10; ++i) {
    const char c = first_ten[static_cast<std::size_t>(i)];
    sum += (std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : value[c]) * (1 << i);
  }
  return sum % 11 % 10;
}

const std::map<cv_::CodeFormat, std::regex>& format_patterns() {
  static const std::map<cv_::CodeFormat, std::regex> patterns = {
      {cv_::CodeFormat::kFourDigits, std::regex("[0-9]{4}")},
      {cv_::CodeFormat::kWagonLong, std::regex("[0-9]{3}[A-Z][0-9]{2}[A-Z][0-9]{2}")},
      {cv_::CodeFormat::kWagonShort, std::regex("[0-9]{4}[A-Z][0-9]{2}[A-Z]")},
      {cv_::CodeFormat::kLetterDigitsLetters, std::regex("[A-Z][0-9]{4}[A-Z]{3}")},
      {cv_::CodeFormat::kTwoLettersSixDigits, std::regex("[A-Z]{2}[0-9]{6}")},
      {cv_::CodeFormat::kIso6346, std::regex("[A-Z]{3}[UJZ][0-9]{7}")},
      {cv_::CodeFormat::kSizeType, std::regex("[1-4LMB][0-9CEL][A-Z][0-9]")},
      {cv_::CodeFormat::kDigitRun, std::regex("[0-9]{5,12}")},
      {cv_::CodeFormat::kAlphanumeric, std::regex("[A-Z0-9]{3,12}")},
  };
  return patterns;
}

std::string read_file_bytes(const fs::path& path) { return cv_::testing::read_text(path); }

}  // namespace

TEST(CodeCrop, GeneratedStringsMatchTheirFormats) {
  cv_::NumpyRandom random(3);
  for (const auto& [format, pattern] : format_patterns()) {
    for (int i = 0; i < 200; ++i) {
      const std::string code = cv_::random_code(format, random);
      ASSERT_TRUE(std::regex_match(code, pattern)) << "'" << code << "' (format " << static_cast<int>(format) << ")";
      if (format == cv_::CodeFormat::kIso6346) {
        ASSERT_EQ(code.back() - '0', naive_check_digit(code.substr(0, 10))) << code;
      }
    }
  }
}

TEST(CodeCrop, Iso6346CheckDigitOfKnownContainers) {
  EXPECT_EQ(cv_::iso6346_check_digit("CSQU305438"), 3);  // CSQU3054383, the standard's example
  EXPECT_EQ(cv_::iso6346_check_digit("MSKU907032"), naive_check_digit("MSKU907032"));
  EXPECT_EQ(cv_::iso6346_check_digit("TGHU000000"), naive_check_digit("TGHU000000"));
}

TEST(CodeCrop, CropHasRequestedHeightAndVisibleText) {
  cv_::CodeCropOptions options;
  options.height = 32;
  options.low_contrast_probability = 0.0;
  cv_::NumpyRandom random(9);
  for (const std::string code : {"3801", "983S11B41", "CSQU3054383"}) {
    const cv::Mat crop = cv_::render_code_crop(code, options, random);
    ASSERT_EQ(crop.rows, 32) << code;
    ASSERT_EQ(crop.type(), CV_8UC3);
    EXPECT_GT(crop.cols, crop.rows) << "a code is wider than high: " << code;
    cv::Scalar mean, stddev;
    cv::meanStdDev(crop, mean, stddev);
    EXPECT_GT(stddev[0] + stddev[1] + stddev[2], 15.0) << "crop of " << code << " looks blank";
  }
}

// The legibility measure behind min_text_contrast: the weakest slice of the code decides.
TEST(CodeCrop, CodeContrastIsTheWeakestSliceAgainstItsWall) {
  cv::Mat mask(32, 120, CV_8U, cv::Scalar(0));
  for (int x = 10; x < 110; x += 20) cv::rectangle(mask, cv::Rect(x, 8, 8, 16), cv::Scalar(255), cv::FILLED);
  cv::Mat crop(32, 120, CV_8UC3, cv::Scalar(60, 60, 60));
  crop.setTo(cv::Scalar(220, 220, 220), mask);
  auto legibility = cv_::measure_code_legibility(crop, mask, 5);
  EXPECT_NEAR(legibility.contrast, 160.0, 1.0);
  EXPECT_NEAR(legibility.wall_noise, 0.0, 0.01);
  // The last glyph faded into the wall: that slice is what a reader fails on.
  crop(cv::Rect(90, 0, 30, 32)).setTo(cv::Scalar(60, 60, 60));
  crop(cv::Rect(90, 0, 30, 32)).setTo(cv::Scalar(70, 70, 70), mask(cv::Rect(90, 0, 30, 32)));
  EXPECT_NEAR(cv_::measure_code_legibility(crop, mask, 5).contrast, 10.0, 1.0);
  EXPECT_DOUBLE_EQ(cv_::measure_code_legibility(crop, cv::Mat(32, 120, CV_8U, cv::Scalar(0)), 5).contrast, 0.0);
}

// Hairline strokes shrunk below a pixel leave only faint traces in the mask: nothing solid to read,
// however bright the paint was (before, such a crop measured as perfectly legible).
TEST(CodeCrop, StrokesThinnerThanAPixelAreIllegible) {
  cv::Mat mask(32, 120, CV_8U, cv::Scalar(0));
  for (int x = 10; x < 110; x += 20) cv::rectangle(mask, cv::Rect(x, 8, 8, 16), cv::Scalar(90), cv::FILLED);
  cv::Mat crop(32, 120, CV_8UC3, cv::Scalar(60, 60, 60));
  crop.setTo(cv::Scalar(100, 100, 100), mask);
  EXPECT_DOUBLE_EQ(cv_::measure_code_legibility(crop, mask, 5).contrast, 0.0);
}

// Paint 40 grey levels off the wall reads on a plain wall, not in a grain that varies more than that.
TEST(CodeCrop, ContrastMustStandOutOfTheWallsNoise) {
  cv::Mat mask(32, 120, CV_8U, cv::Scalar(0));
  for (int x = 10; x < 110; x += 20) cv::rectangle(mask, cv::Rect(x, 8, 8, 16), cv::Scalar(255), cv::FILLED);
  cv::Mat crop(32, 120, CV_8UC3, cv::Scalar(100, 100, 100));
  crop.setTo(cv::Scalar(140, 140, 140), mask);
  const cv_::CodeCropOptions options;
  const auto plain = cv_::measure_code_legibility(crop, mask, 5);
  EXPECT_NEAR(plain.contrast, 40.0, 1.0);
  EXPECT_TRUE(cv_::is_legible(plain, options));

  cv::Mat grain(crop.size(), CV_8U), grain_bgr;
  cv::RNG(7).fill(grain, cv::RNG::UNIFORM, 0, 120);  // spread: 1.4826 x 30 (median |u - 60|) ~ 44 grey levels
  cv::cvtColor(grain, grain_bgr, cv::COLOR_GRAY2BGR);
  cv::Mat grainy = crop + grain_bgr;
  const auto noisy = cv_::measure_code_legibility(grainy, mask, 5);
  EXPECT_NEAR(noisy.wall_noise, 44.0, 6.0);
  EXPECT_GE(noisy.contrast, options.min_text_contrast);
  EXPECT_FALSE(cv_::is_legible(noisy, options)) << noisy.contrast << " over noise " << noisy.wall_noise;
}

// Shape fidelity: contrast survives blur and pixelation (the strokes' centres still stand out), the
// strokes' shapes do not. Light-on-dark and dark-on-light paint count alike.
TEST(CodeCrop, ShapeFidelityFallsWhereTheStrokesShapesAreLost) {
  cv::Mat mask(48, 160, CV_8U, cv::Scalar(0));
  cv::putText(mask, "8B3E", {8, 38}, cv::FONT_HERSHEY_SIMPLEX, 1.2, cv::Scalar(255), 3, cv::LINE_AA);
  const auto painted = [&](double wall, double paint) {
    cv::Mat crop(mask.size(), CV_8UC3, cv::Scalar::all(wall));
    cv::Mat paint_layer(mask.size(), CV_8UC3, cv::Scalar::all(paint)), cover;
    cv::cvtColor(mask, cover, cv::COLOR_GRAY2BGR);
    cv::blendLinear(paint_layer, crop, [&] { cv::Mat w; mask.convertTo(w, CV_32F, 1 / 255.0); return w; }(),
                    [&] { cv::Mat w; mask.convertTo(w, CV_32F, -1 / 255.0, 1.0); return w; }(), crop);
    return crop;
  };
  const cv::Mat light_on_dark = painted(70, 210);
  const cv::Mat dark_on_light = painted(200, 40);
  EXPECT_GT(cv_::measure_code_legibility(light_on_dark, mask, 4).shape_fidelity, 0.95);
  EXPECT_GT(cv_::measure_code_legibility(dark_on_light, mask, 4).shape_fidelity, 0.95);

  cv::Mat blurred, pixelated, small;
  cv::GaussianBlur(light_on_dark, blurred, cv::Size(), 5.0);
  cv::resize(light_on_dark, small, {}, 1.0 / 8, 1.0 / 8, cv::INTER_AREA);
  cv::resize(small, pixelated, light_on_dark.size(), 0, 0, cv::INTER_NEAREST);
  const cv_::CodeCropOptions options;
  for (const cv::Mat& lost : {blurred, pixelated}) {
    const auto legibility = cv_::measure_code_legibility(lost, mask, 4);
    EXPECT_LT(legibility.shape_fidelity, options.min_shape_fidelity);
    EXPECT_FALSE(cv_::is_legible(legibility, options));
  }
  // Paint that is not where the mask says (another code's shapes) does not count either.
  cv::Mat shifted;
  cv::warpAffine(light_on_dark, shifted, cv::Mat_<double>({2, 3}, {1, 0, 9, 0, 1, 0}), light_on_dark.size(),
                 cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  EXPECT_LT(cv_::measure_code_legibility(shifted, mask, 4).shape_fidelity, 0.3);
  // A shadow across the crop is shading, not strokes: the shapes are all still there.
  cv::Mat shadowed = light_on_dark.clone();
  shadowed(cv::Rect(0, 0, 80, 48)) *= 0.6;
  EXPECT_GT(cv_::measure_code_legibility(shadowed, mask, 4).shape_fidelity, 0.85);
  // Paint flaked off most of a glyph: against the paint that is left the shapes all match, against the
  // glyphs as painted one of them is gone.
  cv::Mat worn = mask.clone();
  worn(cv::Rect(88, 0, 72, 48)).setTo(0);  // the E
  cv::Mat flaked(mask.size(), CV_8UC3, cv::Scalar::all(70));
  flaked.setTo(cv::Scalar::all(210), worn >= 128);
  EXPECT_GT(cv_::measure_code_legibility(flaked, worn, 4).shape_fidelity, 0.9);
  EXPECT_LT(cv_::measure_code_legibility(flaked, worn, 4, 32, mask).shape_fidelity, options.min_shape_fidelity);
}

// Every generated crop passes the check, except the last, clean draw when all milder ones failed.
TEST(CodeCrop, GeneratedCropsKeepTheirShapes) {
  cv_::CodeCropOptions options;
  cv_::NumpyRandom random(17);
  int checked = 0;
  for (int i = 0; i < 40; ++i) {
    const cv_::CodeLayout layout{"FB875209", {{{"FB875209", false}}}};
    cv_::LegibilityReport report;
    cv_::render_code_crop(layout, options, random, &report);
    if (report.draws == 4) continue;
    ++checked;
    EXPECT_GE(report.legibility.shape_fidelity, options.min_shape_fidelity) << "crop " << i;
  }
  EXPECT_GT(checked, 30);
}

// A tilted, tightly framed long code keeps its end glyphs in the frame: the tilt gives way first.
TEST(CodeCrop, TiltDoesNotCutTheCodeOutOfTheFrame) {
  cv_::CodeCropOptions tilted;
  tilted.loose_crop_probability = 0.0;
  tilted.perspective = 0.0;
  tilted.rotation_degrees = 25.0;
  tilted.min_text_contrast = tilted.min_contrast_to_noise = tilted.min_shape_fidelity = 0.0;
  cv_::CodeCropOptions level = tilted;
  level.rotation_degrees = 0.0;
  const cv_::CodeLayout layout{"BEAU2656931", {{{"BEAU", false}, {"265693", false}, {"1", true}}}};
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    // The same draws apart from the angle: the same font, glyphs, margins and crop height.
    cv_::NumpyRandom first(seed), second(seed);
    cv_::LegibilityReport turned, straight;
    cv_::render_code_crop(layout, tilted, first, &turned);
    cv_::render_code_crop(layout, level, second, &straight);
    ASSERT_EQ(turned.code_mask.size(), straight.code_mask.size()) << "seed " << seed;
    EXPECT_GE(cv::sum(turned.code_mask)[0], 0.96 * cv::sum(straight.code_mask)[0]) << "seed " << seed;
  }
}

// A code on three lines gets a crop tall enough for min_line_height pixels per line.
TEST(CodeCrop, MultiLineCodesGetTallerCrops) {
  cv_::CodeCropOptions options;
  options.min_height = 20;
  options.max_height = 64;
  cv_::NumpyRandom random(3);
  const cv_::CodeLayout three_lines{"BEAU2656931", {{{"BEAU", false}}, {{"265693", false}}, {{"1", true}}}};
  for (int i = 0; i < 12; ++i) {
    EXPECT_GE(cv_::render_code_crop(three_lines, options, random).rows, 3 * options.min_line_height);
  }
}

// Stacked container numbers are a third of them: few enough that single lines stay the rule, enough that
// a recognizer learns to read them; each layout reads as the code, groups in order.
TEST(CodeCrop, ContainerNumbersAreStackedAThirdOfTheTime) {
  cv_::NumpyRandom random(8);
  int two_lines = 0, three_lines = 0;
  constexpr int kLayouts = 20000;
  for (int i = 0; i < kLayouts; ++i) {
    const std::string code = cv_::random_code(cv_::CodeFormat::kIso6346, random);
    const cv_::CodeLayout layout = cv_::random_layout(code, cv_::CodeFormat::kIso6346, random);
    std::string reading;
    for (const auto& line : layout.lines) {
      for (const auto& group : line) reading += group.text;
    }
    ASSERT_EQ(reading, code);
    ASSERT_EQ(layout.label, code);
    two_lines += layout.lines.size() == 2 ? 1 : 0;
    three_lines += layout.lines.size() == 3 ? 1 : 0;
  }
  EXPECT_NEAR(two_lines / static_cast<double>(kLayouts), 0.25, 0.015);
  EXPECT_NEAR(three_lines / static_cast<double>(kLayouts), 0.10, 0.01);
}

// The training stream also shows a stacked number's lines alone (the owner code, the serial with its
// check digit, the boxed digit), labelled as what they show.
TEST(CodeCrop, StreamShowsTheLinesOfStackedNumbersAlone) {
  cv_::CodeCropOptions options;
  options.height = 24;
  options.difficulty = 0.0;
  cv_::NumpyRandom random(5);
  // A lone owner code (three letters and U, J or Z) comes from nowhere else in the stream.
  const std::regex owner("[A-Z]{3}[UJZ]");
  int owners = 0;
  for (int i = 0; i < 800; ++i) {
    const cv_::CodeSample sample = cv_::random_code_sample(options, random);
    ASSERT_FALSE(sample.label.empty());
    ASSERT_EQ(sample.image.rows, 24);
    owners += std::regex_match(sample.label, owner) ? 1 : 0;
  }
  // About 800 x 0.26 (container numbers) x (0.25 x 0.3 / 2 + 0.10 x 0.3 / 3) (a stacked number's first line) = 10;
  // none before lines came alone.
  EXPECT_GE(owners, 3);
  EXPECT_LE(owners, 25);
}

TEST(CodeCrop, DatasetIsDeterministicAndParses) {
  cv_::testing::TempDir first, second, other;
  cv_::CodeDatasetOptions options;
  options.training_per_folder = 6;
  options.validation_per_folder = 2;
  options.crop.height = 24;
  options.seed = 2026;
  options.output_dir = first.str();
  cv_::generate_code_dataset(options);
  options.output_dir = second.str();
  cv_::generate_code_dataset(options);
  options.seed = 2027;
  options.output_dir = other.str();
  cv_::generate_code_dataset(options);

  const std::regex folder03("[0-9]{4}");
  for (const char* split : {"training", "validation"}) {
    for (const char* folder : {"01", "02", "03"}) {
      const fs::path gt = first.path() / split / folder / "gt.txt";
      const auto entries = cv_::ocr::read_gt_file(gt.string());
      ASSERT_EQ(entries.size(), std::string(split) == "training" ? 6u : 2u) << gt;
      for (const auto& entry : entries) {
        const fs::path image = first.path() / split / folder / entry.image_path;
        const cv::Mat decoded = cv::imread(image.string());
        ASSERT_FALSE(decoded.empty()) << image;
        EXPECT_EQ(decoded.rows, 24) << image;
        bool known_format = false;
        for (const auto& [format, pattern] : format_patterns()) known_format |= std::regex_match(entry.label, pattern);
        EXPECT_TRUE(known_format) << entry.label;
        if (std::string(folder) == "03") {
          EXPECT_TRUE(std::regex_match(entry.label, folder03)) << entry.label;
        }
        EXPECT_EQ(read_file_bytes(image), read_file_bytes(second.path() / split / folder / entry.image_path))
            << "same seed, different bytes: " << entry.image_path;
      }
      EXPECT_EQ(read_file_bytes(gt), read_file_bytes(second.path() / split / folder / "gt.txt"));
    }
  }
  EXPECT_NE(read_file_bytes(first.path() / "training" / "01" / "gt.txt"),
            read_file_bytes(other.path() / "training" / "01" / "gt.txt"));
}
