#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "cargovision/core/error.h"
#include "cargovision/ocr/code_check.h"
#include "cargovision/ocr/recognize.h"
#include "cargovision/ocr/text.h"
#include "cargovision/synth/code_text.h"

namespace ocr = cargovision::ocr;

namespace {

const std::string kCharacters = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr int kAttnFirstClass = 2;  // after [GO] and [s]

// Per-character rows: the read character at `top`, an alternative at `second` where given.
std::vector<std::vector<float>> rows_for(const std::string& reading, const std::string& alternatives, float top = 0.8f,
                                         float second = 0.15f, float others = 0.05f / 36) {
  std::vector<std::vector<float>> rows;
  for (std::size_t i = 0; i < reading.size(); ++i) {
    std::vector<float> row(kCharacters.size() + kAttnFirstClass, others);
    row[kAttnFirstClass + kCharacters.find(reading[i])] = top;
    if (alternatives[i] != '.') row[kAttnFirstClass + kCharacters.find(alternatives[i])] = second;
    rows.push_back(row);
  }
  return rows;
}

std::u32string u32(const std::string& text) { return ocr::decode_utf8(text, "test"); }

// What a fake attention reader reads in one band of a crop, and how sure it is.
struct FakeBandReading {
  std::string text;
  std::string alternatives;  // per character: '.' for none, else the runner-up at `second`
  float top;
  float second;
  double confidence;
};

// The Recognition an attention reader gives for `bands`, each read as `read_band` says: 12 steps, the
// band's characters then [s], every other class at 1e-4.
ocr::Recognition fake_attention_reading(const std::vector<cv::Mat>& bands,
                                        const std::function<FakeBandReading(const cv::Mat&)>& read_band) {
  const long classes = static_cast<long>(kCharacters.size()) + kAttnFirstClass;
  ocr::Recognition lines;
  auto probabilities = torch::full({static_cast<long>(bands.size()), 12, classes}, 1e-4f);
  for (std::size_t k = 0; k < bands.size(); ++k) {
    const FakeBandReading band = read_band(bands[k]);
    const auto rows = rows_for(band.text, band.alternatives, band.top, band.second, 1e-4f);
    for (std::size_t t = 0; t < rows.size(); ++t) probabilities[static_cast<long>(k)][static_cast<long>(t)] = torch::tensor(rows[t]);
    probabilities[static_cast<long>(k)][static_cast<long>(band.text.size())][1] = 0.9f;  // [s]
    lines.predictions.push_back(band.text);
    lines.confidence.push_back(band.confidence);
  }
  lines.logits = probabilities.log();
  return lines;
}

}  // namespace

TEST(CodeCheck, TheExampleNumberChecks) {
  EXPECT_EQ(cargovision::iso6346_check_digit("CSQU305438"), 3);
  EXPECT_EQ(cargovision::iso6346_value('A'), 10);
  EXPECT_EQ(cargovision::iso6346_value('K'), 21);  // 22 skipped
  EXPECT_EQ(cargovision::iso6346_value('U'), 32);
}

TEST(CodeCheck, AReadingThatChecksOrIsNoContainerNumberIsLeftAlone) {
  const auto characters = u32(kCharacters);
  EXPECT_FALSE(ocr::repair_iso6346(u32("CSQU3054383"), rows_for("CSQU3054383", "..........8"), characters, kAttnFirstClass));
  EXPECT_FALSE(ocr::repair_iso6346(u32("983S11B41"), rows_for("983S11B41", "........."), characters, kAttnFirstClass));
  // Eleven characters, but three of them where a container number has none (a wagon-style code).
  EXPECT_FALSE(ocr::repair_iso6346(u32("98312345678"), rows_for("98312345678", "..........."), characters, kAttnFirstClass));
}

TEST(CodeCheck, TheMostProbableNumberThatChecksReplacesTheReading) {
  const auto characters = u32(kCharacters);
  // The check digit read as 8; the model's second choice there was the right 3.
  auto repair = ocr::repair_iso6346(u32("CSQU3054388"), rows_for("CSQU3054388", "..........3"), characters, kAttnFirstClass);
  ASSERT_TRUE(repair);
  EXPECT_EQ(ocr::encode_utf8(repair->text), "CSQU3054383");
  EXPECT_NEAR(repair->probability_ratio, 0.15 / 0.8, 1e-6);
  // A letter read in the serial (O for 0) and a serial digit misread: both second choices win together.
  repair = ocr::repair_iso6346(u32("CSQU3O54883"), rows_for("CSQU3O54883", ".....0..3.."), characters, kAttnFirstClass);
  ASSERT_TRUE(repair);
  EXPECT_EQ(ocr::encode_utf8(repair->text), "CSQU3054383");
  EXPECT_NEAR(repair->probability_ratio, (0.15 / 0.8) * (0.15 / 0.8), 1e-6);
}

TEST(CodeCheck, ARepairTheModelFindsImprobableIsNotMade) {
  const auto characters = u32(kCharacters);
  // The model is sure of every character (every other class at 1e-7): any repair costs far more than allowed.
  const auto sure = rows_for("CSQU3054388", "...........", 0.999f, 0.0f, 1e-7f);
  EXPECT_FALSE(ocr::repair_iso6346(u32("CSQU3054388"), sure, characters, kAttnFirstClass));
  // Allowed when asked for any repair at all: then some number that checks is chosen.
  const auto forced = ocr::repair_iso6346(u32("CSQU3054388"), sure, characters, kAttnFirstClass, 0.0);
  ASSERT_TRUE(forced);
  const std::string text = ocr::encode_utf8(forced->text);
  EXPECT_EQ(cargovision::iso6346_check_digit(text.substr(0, 10)), text[10] - '0') << text;
}

TEST(CodeCheck, CaseInsensitiveModelsKeepTheirCase) {
  const std::string lower = "0123456789abcdefghijklmnopqrstuvwxyz";
  const auto characters = u32(lower);
  std::vector<std::vector<float>> rows;
  const std::string reading = "csqu3054388";
  for (std::size_t i = 0; i < reading.size(); ++i) {
    std::vector<float> row(lower.size() + 1, 0.001f);
    row[1 + lower.find(reading[i])] = 0.8f;
    if (i == 10) row[1 + lower.find('3')] = 0.15f;
    rows.push_back(row);
  }
  const auto repair = ocr::repair_iso6346(u32(reading), rows, characters, /*first_class=*/1);
  ASSERT_TRUE(repair);
  EXPECT_EQ(ocr::encode_utf8(repair->text), "csqu3054383");
}

// The batch path: Attn steps are the characters; CTC characters come from the frame where each peaked.
TEST(CodeCheck, BatchesAreRepairedInPlace) {
  const auto rows = rows_for("CSQU3054388", "..........3");
  ocr::Recognition attn;
  auto probabilities = torch::full({2, 12, static_cast<long>(kCharacters.size()) + kAttnFirstClass}, 1e-4f);
  for (long t = 0; t < 11; ++t) {
    probabilities[0][t] = torch::tensor(rows[static_cast<std::size_t>(t)]);
    probabilities[1][t][kAttnFirstClass + static_cast<long>(kCharacters.find("FB875209XYZ"[t]))] = 0.9f;
  }
  probabilities.select(1, 11).select(1, 1).fill_(0.9f);  // [s] after eleven characters
  attn.logits = probabilities.log();
  attn.predictions = {"CSQU3054388", "FB875209XYZ"};
  attn.confidence = {0.5, 0.4};
  EXPECT_EQ(ocr::apply_code_check(attn, ocr::CodeCheck::kNone, kCharacters, false), 0u);
  EXPECT_EQ(attn.predictions[0], "CSQU3054388");
  EXPECT_EQ(ocr::apply_code_check(attn, ocr::CodeCheck::kIso6346, kCharacters, false), 1u);
  EXPECT_EQ(attn.predictions[0], "CSQU3054383");
  EXPECT_NEAR(attn.confidence[0], 0.5 * 0.15 / 0.8, 1e-6);
  EXPECT_EQ(attn.predictions[1], "FB875209XYZ");
  EXPECT_DOUBLE_EQ(attn.confidence[1], 0.4);

  // CTC: blanks between characters, a repeated frame for the last one (its second frame peaks).
  ocr::Recognition ctc;
  const long classes = static_cast<long>(kCharacters.size()) + 1;
  auto frames = torch::full({1, 26, classes}, 1e-4f);
  long t = 0;
  for (std::size_t i = 0; i < 11; ++i) {
    std::vector<float> row = rows[i];
    row.erase(row.begin());  // one special class ([CTCblank]) instead of two
    frames[0][t++] = torch::tensor(row);
    frames[0][t++][0] = 0.9f;  // blank
  }
  frames[0][20] = frames[0][20] * 0.5;  // the last character's first frame, weaker than the next
  frames[0][21] = torch::tensor(std::vector<float>(frames[0][20].data_ptr<float>(), frames[0][20].data_ptr<float>() + classes)) * 2.0;
  for (; t < 26; ++t) frames[0][t][0] = 0.9f;
  ctc.logits = frames.log();
  ctc.predictions = {"CSQU3054388"};
  ctc.confidence = {0.3};
  EXPECT_EQ(ocr::apply_code_check(ctc, ocr::CodeCheck::kIso6346, kCharacters, true), 1u);
  EXPECT_EQ(ctc.predictions[0], "CSQU3054383");
}

TEST(CodeCheck, StackedCutsCoverTheCropInOverlappingBands) {
  const auto cuts = ocr::stacked_line_cuts({120, 40});
  ASSERT_EQ(cuts.size(), 8u);
  for (const auto& cut : cuts) {
    ASSERT_TRUE(cut.size() == 2 || cut.size() == 3);
    EXPECT_EQ(cut.front().y, 0);
    EXPECT_EQ(cut.back().br().y, 40);
    for (std::size_t i = 0; i < cut.size(); ++i) {
      EXPECT_EQ(cut[i].width, 120);
      if (i > 0) {
        EXPECT_LT(cut[i].y, cut[i - 1].br().y) << "bands overlap";
      }
    }
  }
  EXPECT_TRUE(ocr::stacked_line_cuts({120, 2}).empty());
}

// A number stacked over two lines: read whole, the model invents an owner code; line by line it checks.
TEST(CodeCheck, StackedNumbersAreReadLineByLine) {
  ASSERT_EQ(cargovision::iso6346_check_digit("CYDU881874"), 2);
  cv::Mat stacked(40, 120, CV_8U, cv::Scalar(0));
  stacked(cv::Rect(0, 20, 120, 20)).setTo(255);  // what the fake reader tells the lines apart by
  const cv::Mat single(20, 200, CV_8U, cv::Scalar(0));
  int reads = 0;
  const ocr::CropReader read = [&](const std::vector<cv::Mat>& bands) {
    ++reads;
    ocr::Recognition lines;
    for (const cv::Mat& band : bands) {
      const double level = cv::mean(band)[0];
      // Two-line cuts give an upper band mostly dark and a lower one mostly light; thirds give other levels.
      const bool two_line_top = band.rows > 14 && level < 80, two_line_bottom = band.rows > 14 && level > 170;
      lines.predictions.push_back(two_line_top ? "CYDU" : two_line_bottom ? "8818742" : "X");
      lines.confidence.push_back(two_line_top ? 0.9 : two_line_bottom ? 0.8 : 0.5);
    }
    return lines;
  };
  ocr::Recognition whole;
  whole.logits = torch::zeros({2, 12, static_cast<long>(kCharacters.size()) + kAttnFirstClass});
  whole.predictions = {"JJTJ8818741", "CSQU3054383"};
  whole.confidence = {0.01, 0.7};
  EXPECT_EQ(ocr::apply_code_check(whole, ocr::CodeCheck::kIso6346, kCharacters, false, {stacked, single}, read), 1u);
  EXPECT_EQ(reads, 1);  // one batch of bands, of the reading that failed only
  EXPECT_EQ(whole.predictions[0], "CYDU8818742");
  EXPECT_NEAR(whole.confidence[0], 0.9 * 0.8, 1e-12);
  EXPECT_EQ(whole.predictions[1], "CSQU3054383");
  // Nothing re-read when every reading checks, or under --code_check none.
  EXPECT_EQ(ocr::apply_code_check(whole, ocr::CodeCheck::kIso6346, kCharacters, false, {stacked, single}, read), 0u);
  whole.predictions[0] = "JJTJ8818741";
  EXPECT_EQ(ocr::apply_code_check(whole, ocr::CodeCheck::kNone, kCharacters, false, {stacked, single}, read), 0u);
  EXPECT_EQ(reads, 1);
}

// The lines of a stacked number read with one stroke wrong (the check digit 2 read as 1): the joined lines fail the
// check, and are repaired over the lines' own probabilities, where the reader hesitated.
TEST(CodeCheck, StackedLinesAreRepairedByTheCheckDigit) {
  ASSERT_EQ(cargovision::iso6346_check_digit("CYDU881874"), 2);
  cv::Mat stacked(40, 120, CV_8U, cv::Scalar(0));
  stacked(cv::Rect(0, 20, 120, 20)).setTo(255);
  const long classes = static_cast<long>(kCharacters.size()) + kAttnFirstClass;
  const ocr::CropReader read = [&](const std::vector<cv::Mat>& bands) {
    return fake_attention_reading(bands, [](const cv::Mat& band) {
      const double level = cv::mean(band)[0];
      const bool top = band.rows > 14 && level < 80, bottom = band.rows > 14 && level > 170;
      const std::string text = top ? "CYDU" : bottom ? "8818741" : "X";
      return FakeBandReading{text, bottom ? "......2" : std::string(text.size(), '.'), 0.6f, 0.3f,
                             top ? 0.9 : bottom ? 0.8 : 0.5};
    });
  };
  ocr::Recognition whole;
  whole.logits = torch::zeros({1, 12, classes});
  whole.predictions = {"JJTJ8818741"};
  whole.confidence = {0.01};
  EXPECT_EQ(ocr::apply_code_check(whole, ocr::CodeCheck::kIso6346, kCharacters, false, {stacked}, read), 1u);
  EXPECT_EQ(whole.predictions[0], "CYDU8818742");
  EXPECT_NEAR(whole.confidence[0], 0.9 * 0.8 * 0.3 / 0.6, 1e-6);
  // Without the lines' logits nothing checks, and the whole reading is left to its own repair.
  const ocr::CropReader read_text_only = [&](const std::vector<cv::Mat>& bands) {
    auto lines = read(bands);
    lines.logits = torch::Tensor();
    return lines;
  };
  whole.predictions = {"JJTJ8818741"};
  ocr::apply_code_check(whole, ocr::CodeCheck::kIso6346, kCharacters, false, {stacked}, read_text_only);
  EXPECT_NE(whole.predictions[0], "CYDU8818742");
}

// A number stacked over three lines whose boxed check digit the reader reads on past ("2890" for the box
// holding 2): with owner code and serial above it, the box's first character is the check digit.
TEST(CodeCheck, ALoneCheckDigitCountsByItsFirstCharacterRead) {
  ASSERT_EQ(cargovision::iso6346_check_digit("CYDU881874"), 2);
  cv::Mat stacked(60, 120, CV_8U, cv::Scalar(0));
  stacked(cv::Rect(0, 20, 120, 20)).setTo(128);
  stacked(cv::Rect(0, 40, 120, 20)).setTo(255);
  const long classes = static_cast<long>(kCharacters.size()) + kAttnFirstClass;
  const auto reader = [&](const std::string& box) {
    return [box](const std::vector<cv::Mat>& bands) {
      return fake_attention_reading(bands, [&box](const cv::Mat& band) {
        const double level = cv::mean(band)[0];
        // By the band's brightness: the upper third is dark, the middle grey, the box bright. Two-line cuts
        // join to ten or fourteen characters, nothing shaped like a container number.
        const std::string text = level < 60 ? "CYDU" : level < 200 ? "881874" : box;
        return FakeBandReading{text, std::string(text.size(), '.'), 0.7f, 0.2f,
                               text == "CYDU" ? 0.9 : text == "881874" ? 0.8 : 0.01};
      });
    };
  };
  ocr::Recognition whole;
  whole.logits = torch::zeros({1, 12, classes});
  whole.predictions = {"JJTJ8818741"};
  whole.confidence = {0.001};
  EXPECT_EQ(ocr::apply_code_check(whole, ocr::CodeCheck::kIso6346, kCharacters, false, {stacked}, reader("2890")), 1u);
  EXPECT_EQ(whole.predictions[0], "CYDU8818742");
  const double first_character = 0.7 / (0.7 + static_cast<double>(classes - 1) * 1e-4);  // its softmaxed row's top
  EXPECT_NEAR(whole.confidence[0], 0.9 * 0.8 * first_character, 1e-6) << "the lines' confidences and the box's first character's";
  // A box read as the one digit it holds counts as read, with its line's confidence.
  whole.predictions = {"JJTJ8818741"};
  ocr::apply_code_check(whole, ocr::CodeCheck::kIso6346, kCharacters, false, {stacked}, reader("2"));
  EXPECT_EQ(whole.predictions[0], "CYDU8818742");
  EXPECT_NEAR(whole.confidence[0], 0.9 * 0.8 * 0.01, 1e-6);
}

// A checked reader reads as its reader does, then repairs by the check digit what fails it.
TEST(CodeCheck, ACheckedReaderRepairsWhatItsReaderRead) {
  const long classes = static_cast<long>(kCharacters.size()) + kAttnFirstClass;
  int reads = 0;
  const ocr::CropReader read = [&](const std::vector<cv::Mat>& crops) {
    ++reads;
    ocr::Recognition recognition;
    auto probabilities = torch::full({static_cast<long>(crops.size()), 12, classes}, 1e-4f);
    const auto rows = rows_for("CSQU3054388", "..........3");
    for (std::size_t k = 0; k < crops.size(); ++k) {
      for (std::size_t t = 0; t < rows.size(); ++t) probabilities[static_cast<long>(k)][static_cast<long>(t)] = torch::tensor(rows[t]);
      recognition.predictions.push_back("CSQU3054388");
      recognition.confidence.push_back(0.5);
    }
    recognition.logits = probabilities.log();
    return recognition;
  };
  const auto checked = ocr::checked_reader(read, ocr::CodeCheck::kIso6346, kCharacters, false);
  const auto recognition = checked({cv::Mat()});
  EXPECT_EQ(recognition.predictions, (std::vector<std::string>{"CSQU3054383"}));
  EXPECT_NEAR(recognition.confidence[0], 0.5 * 0.15 / 0.8, 1e-6);
  EXPECT_EQ(reads, 1) << "an empty crop is not cut into lines";
  const auto unchecked = ocr::checked_reader(read, ocr::CodeCheck::kNone, kCharacters, false)({cv::Mat()});
  EXPECT_EQ(unchecked.predictions, (std::vector<std::string>{"CSQU3054388"}));
}

TEST(CodeCheck, UnknownChecksAreNamed) {
  EXPECT_EQ(ocr::parse_code_check("none"), ocr::CodeCheck::kNone);
  try {
    ocr::parse_code_check("luhn");
    FAIL() << "no error";
  } catch (const cargovision::Error& e) {
    EXPECT_STREQ(e.what(), "--code_check: unknown check 'luhn' (valid: iso6346, none)");
  }
}
