// The HTML reports, charts and Grad-CAM: building blocks checked against hand-computed values, whole
// pages checked for their structure and, where Chromium is installed, in a headless browser.
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <random>

#include "cargovision/classify/grad_cam.h"
#include "cargovision/classify/html_report.h"
#include "cargovision/core/error.h"
#include "cargovision/ocr/html_report.h"
#include "cargovision/ocr/metrics.h"
#include "cargovision/ocr/text.h"
#include "cargovision/ocr/training_curves.h"
#include "cargovision/report/heat_map.h"
#include "cargovision/report/html.h"
#include "cargovision/report/line_chart.h"
#include "cargovision/report/text_diff.h"
#include "test_support.h"

namespace cargovision {
namespace {

namespace fs = std::filesystem;

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++count;
  return count;
}

// Independent of report::base64_encode: decodes the standard alphabet with padding.
std::string base64_decode(const std::string& text) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    buffer = (buffer << 6) | static_cast<unsigned>(alphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

cv::Mat decode_data_uri(const std::string& uri) {
  const auto comma = uri.find(',');
  const std::string bytes = base64_decode(uri.substr(comma + 1));
  return cv::imdecode(std::vector<uchar>(bytes.begin(), bytes.end()), cv::IMREAD_UNCHANGED);
}

TEST(Html, EscapesMarkup) {
  EXPECT_EQ(report::html_escape("<a href=\"x\">Tom & 'Jerry'</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
  EXPECT_EQ(report::html_escape("983S11B41"), "983S11B41");
}

TEST(Html, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(report::base64_encode(""), "");
  EXPECT_EQ(report::base64_encode("f"), "Zg==");
  EXPECT_EQ(report::base64_encode("fo"), "Zm8=");
  EXPECT_EQ(report::base64_encode("foo"), "Zm9v");
  EXPECT_EQ(report::base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(report::base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(report::base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(report::base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(Html, PngDataUriKeepsEveryPixel) {
  cv::Mat image(3, 5, CV_8UC1);
  cv::randu(image, 0, 256);
  const std::string uri = report::png_data_uri(image);
  ASSERT_EQ(uri.rfind("data:image/png;base64,", 0), 0u);
  const cv::Mat back = decode_data_uri(uri);
  ASSERT_EQ(back.size(), image.size());
  EXPECT_EQ(cv::norm(back, image, cv::NORM_INF), 0.0);
  EXPECT_THROW(report::png_data_uri(cv::Mat()), Error);
  EXPECT_THROW(report::jpeg_data_uri(cv::Mat(4, 4, CV_32FC1, cv::Scalar(0))), Error);
}

TEST(Html, FitWithinScalesDownOnly) {
  EXPECT_EQ(report::fit_within(cv::Mat(100, 300, CV_8UC3), 112).size(), cv::Size(112, 37));
  EXPECT_EQ(report::fit_within(cv::Mat(300, 100, CV_8UC1), 112).size(), cv::Size(37, 112));
  EXPECT_EQ(report::fit_within(cv::Mat(20, 50, CV_8UC3), 112).size(), cv::Size(50, 20));
}

TEST(Html, DocumentCarriesTitleStyleAndSelfCheck) {
  const std::string page = report::html_document("a < b", ".x { color: red; }", "<p>body</p>");
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("<title>a &lt; b</title>"), std::string::npos);
  EXPECT_NE(page.find(".x { color: red; }"), std::string::npos);
  EXPECT_NE(page.find("data-images-broken"), std::string::npos);
  EXPECT_NE(page.find("<body>\n<p>body</p>"), std::string::npos);
}

TEST(LineChart, AxesTakeRoundSteps) {
  const auto unit = report::nice_axis(0, 0.93, 6);
  EXPECT_DOUBLE_EQ(unit.low, 0);
  EXPECT_DOUBLE_EQ(unit.high, 1);
  EXPECT_NEAR(unit.step, 0.2, 1e-12);
  ASSERT_EQ(unit.ticks.size(), 6u);
  EXPECT_NEAR(unit.ticks[3], 0.6, 1e-12);
  const auto iterations = report::nice_axis(250, 20000, 6);
  EXPECT_DOUBLE_EQ(iterations.step, 5000);
  EXPECT_EQ(iterations.ticks, (std::vector<double>{0, 5000, 10000, 15000, 20000}));
  const auto mixed = report::nice_axis(-0.37, 2.1, 6);
  EXPECT_EQ(mixed.ticks, (std::vector<double>{-1, 0, 1, 2, 3}));
  const auto flat = report::nice_axis(3, 3, 6);  // one value: widened around it
  EXPECT_LT(flat.low, 3);
  EXPECT_GT(flat.high, 3);
  EXPECT_THROW(report::nice_axis(1, 0, 6), Error);

  // Any range: at most max_ticks ticks, covering it, at 1, 2 or 5 times a power of ten.
  std::mt19937 random(11);
  std::uniform_real_distribution<double> exponent(-4, 5), unit_draw(0, 1);
  for (int trial = 0; trial < 500; ++trial) {
    const double scale = std::pow(10.0, exponent(random));
    double a = (unit_draw(random) - 0.3) * scale, b = (unit_draw(random) - 0.3) * scale;
    if (a > b) std::swap(a, b);
    const auto axis = report::nice_axis(a, b, 6);
    EXPECT_LE(axis.ticks.size(), 6u);
    EXPECT_LE(axis.low, a);
    EXPECT_GE(axis.high, b);
    const double mantissa = axis.step / std::pow(10.0, std::floor(std::log10(axis.step) + 1e-9));
    EXPECT_TRUE(std::abs(mantissa - 1) < 1e-6 || std::abs(mantissa - 2) < 1e-6 || std::abs(mantissa - 5) < 1e-6)
        << axis.step;
  }
}

TEST(LineChart, PointsAndMarkersLandWhereMapped) {
  const cv::Scalar red(0, 0, 255), green(0, 200, 0);
  report::LineChartOptions options{"loss", "epoch", "loss"};
  const report::LineChart chart(options, {{"train", {1, 2, 3, 4}, {0.9, 0.5, 0.4, 0.2}, red}},
                                {{3, 0.4, "best", green}});
  const cv::Mat image = chart.render();
  ASSERT_EQ(image.size(), cv::Size(560, 380));
  EXPECT_EQ(chart.x_axis().ticks.front(), 1);
  EXPECT_NEAR(chart.y_axis().ticks.front(), 0.2, 1e-12);  // the data's low end, already round
  // The marker sits on (3, 0.4); the line passes through (1.5, 0.7), half way between its first points.
  EXPECT_EQ(image.at<cv::Vec3b>(chart.to_pixel(3, 0.4)), cv::Vec3b(0, 200, 0));
  EXPECT_EQ(image.at<cv::Vec3b>(chart.to_pixel(1.5, 0.7)), cv::Vec3b(0, 0, 255));
  // Axis ends map to the plot area's corners, larger y higher up.
  EXPECT_LT(chart.to_pixel(1, 1).y, chart.to_pixel(1, 0).y);
  EXPECT_LT(chart.to_pixel(1, 0).x, chart.to_pixel(4, 0).x);
  // Outside the plot area the canvas is white except for labels: the top-right corner is.
  EXPECT_EQ(image.at<cv::Vec3b>(0, image.cols - 1), cv::Vec3b(255, 255, 255));
  EXPECT_THROW(report::LineChart(options, {{"bad", {1, 2}, {1}, red}}), Error);
}

TEST(LineChart, GapsWhereValuesAreMissing) {
  const cv::Scalar red(0, 0, 255);
  report::LineChartOptions options{"loss", "epoch", "loss"};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const report::LineChart chart(options, {{"train", {1, 2, 3, 4}, {0.0, 1.0, nan, 1.0}, red}});
  const cv::Mat image = chart.render();
  EXPECT_EQ(image.at<cv::Vec3b>(chart.to_pixel(1.5, 0.5)), cv::Vec3b(0, 0, 255));
  EXPECT_NE(image.at<cv::Vec3b>(chart.to_pixel(3, 1.0)), cv::Vec3b(0, 0, 255));  // no line across the gap
}

std::string render_steps(const std::vector<report::DiffStep>& steps) {
  std::string out;
  for (const auto& s : steps) {
    switch (s.kind) {
      case report::DiffKind::kMatch: out += "="; break;
      case report::DiffKind::kSubstitute: out += "~"; break;
      case report::DiffKind::kMissing: out += "-"; break;
      case report::DiffKind::kExtra: out += "+"; break;
    }
  }
  return out;
}

TEST(TextDiff, AlignsLikeTheEditDistance) {
  EXPECT_EQ(render_steps(report::diff_characters(U"ABXD", U"ABCD")), "==~=");
  EXPECT_EQ(render_steps(report::diff_characters(U"ABD", U"ABCD")), "==-=");
  EXPECT_EQ(render_steps(report::diff_characters(U"ABCCD", U"ABCD")).size(), 5u);
  EXPECT_EQ(render_steps(report::diff_characters(U"", U"38")), "--");
  EXPECT_EQ(render_steps(report::diff_characters(U"38", U"")), "++");
  // Against the scoring's edit distance on random codes: as many edits, and both strings rebuilt.
  std::mt19937 random(5);
  const std::u32string alphabet = U"0123456789ABCS";
  std::uniform_int_distribution<int> length(0, 9), pick(0, static_cast<int>(alphabet.size()) - 1);
  for (int trial = 0; trial < 300; ++trial) {
    std::u32string a, b;
    for (int i = length(random); i > 0; --i) a += alphabet[static_cast<std::size_t>(pick(random))];
    for (int i = length(random); i > 0; --i) b += alphabet[static_cast<std::size_t>(pick(random))];
    const auto steps = report::diff_characters(a, b);
    std::size_t edits = 0;
    std::u32string rebuilt_a, rebuilt_b;
    for (const auto& s : steps) {
      edits += s.kind == report::DiffKind::kMatch ? 0 : 1;
      if (s.kind != report::DiffKind::kMissing) rebuilt_a += s.predicted;
      if (s.kind != report::DiffKind::kExtra) rebuilt_b += s.expected;
    }
    EXPECT_EQ(edits, ocr::edit_distance(a, b));
    EXPECT_EQ(rebuilt_a, a);
    EXPECT_EQ(rebuilt_b, b);
  }
}

TEST(HeatMap, ColoursOnlyWhereItIsHot) {
  cv::Mat image(20, 40, CV_8UC3, cv::Scalar(90, 90, 90));
  cv::Mat heat(4, 8, CV_32FC1, cv::Scalar(0));
  EXPECT_EQ(cv::norm(report::overlay_heat_map(image, heat), image, cv::NORM_INF), 0.0);
  heat(cv::Rect(0, 0, 2, 2)).setTo(1.0f);  // top-left quarter of the heat map's width, half its height
  const cv::Mat hot = report::overlay_heat_map(image, heat, 0.5);
  const cv::Vec3b top_left = hot.at<cv::Vec3b>(1, 1), bottom_right = hot.at<cv::Vec3b>(18, 38);
  EXPECT_GT(top_left[2], top_left[0] + 40);  // JET's top end is red, blended half over the grey
  EXPECT_EQ(bottom_right, cv::Vec3b(90, 90, 90));
  EXPECT_THROW(report::overlay_heat_map(image, cv::Mat(2, 2, CV_8UC1)), Error);
}

// A model whose answer depends on one region: a 2x2 checkerboard detector (it answers 2 on a
// checkerboard, 0 on flat paint and edges, at most 1 on a corner) under global average pooling.
struct CheckerboardModel {
  torch::nn::Conv2d detector{torch::nn::Conv2dOptions(1, 1, 2).bias(false)};
  torch::nn::Linear output{1, 1};
  CheckerboardModel() {
    torch::NoGradGuard no_grad;
    detector->weight.copy_(torch::tensor({1.f, -1.f, -1.f, 1.f}).view({1, 1, 2, 2}));
    output->weight.fill_(1.5);
    output->bias.fill_(-0.05);
  }
  torch::Tensor features(const torch::Tensor& images) { return torch::relu(detector(images)); }
  torch::Tensor logits(const torch::Tensor& features) { return output(features.mean({2, 3})).squeeze(1); }
};

TEST(GradCam, HeatSitsWhereTheAnswerIs) {
  // 24x24: a checkerboard in rows/cols 3..8 (the evidence), a flat bright square in rows/cols 14..21.
  torch::Tensor image = torch::zeros({1, 1, 24, 24});
  for (int y = 3; y < 9; ++y) {
    for (int x = 3; x < 9; ++x) image[0][0][y][x] = (x + y) % 2 == 0 ? 1.f : 0.f;
  }
  image.index_put_({0, 0, torch::indexing::Slice(14, 22), torch::indexing::Slice(14, 22)}, 1.f);
  CheckerboardModel model;
  const torch::Tensor features = model.features(image);
  const torch::Tensor cam =
      grad_cam([&](const torch::Tensor& f) { return model.logits(f); }, features, torch::tensor({true}));
  ASSERT_EQ(cam.sizes(), torch::IntArrayRef({1, 23, 23}));
  EXPECT_FLOAT_EQ(cam.max().item<float>(), 1.f);
  const auto peak = cam.flatten().argmax().item<int64_t>();
  const int64_t peak_y = peak / 23, peak_x = peak % 23;
  EXPECT_TRUE(peak_y >= 2 && peak_y <= 8 && peak_x >= 2 && peak_x <= 8) << peak_y << "," << peak_x;
  using torch::indexing::Slice;
  const double evidence = cam.index({0, Slice(2, 9), Slice(2, 9)}).mean().item<double>();
  const double distractor = cam.index({0, Slice(13, 22), Slice(13, 22)}).mean().item<double>();
  EXPECT_GT(evidence, 5 * distractor) << evidence << " vs " << distractor;
}

// Against the closed form: under global average pooling and a linear layer the gradient is
// w / (h w) at every position, so the map is relu(sum_c w_c A_c) scaled to its maximum, and the
// negative class flips the sign.
TEST(GradCam, MatchesTheClosedFormForALinearHead) {
  torch::manual_seed(3);
  torch::nn::Linear head(2, 1);
  {
    torch::NoGradGuard no_grad;
    head->weight.copy_(torch::tensor({{2.f, -1.f}}));
  }
  const torch::Tensor features = torch::rand({3, 2, 5, 4});
  const auto logits_of = [&](const torch::Tensor& f) { return head(f.mean({2, 3})).squeeze(1); };
  const torch::Tensor explain = torch::tensor({true, false, true});
  torch::Tensor cam;
  {
    torch::InferenceMode inference;  // as test_classifier calls it
    cam = grad_cam(logits_of, features, explain);
  }
  const torch::Tensor positive = torch::relu(2 * features.select(1, 0) - features.select(1, 1));
  const torch::Tensor negative = torch::relu(features.select(1, 1) - 2 * features.select(1, 0));
  for (int64_t i = 0; i < 3; ++i) {
    const torch::Tensor expected = i == 1 ? negative[i] : positive[i];
    const torch::Tensor scaled = expected / expected.max().clamp_min(1e-12);
    EXPECT_TRUE(torch::allclose(cam[i], scaled, 1e-5, 1e-6)) << i;
  }
  EXPECT_THROW(grad_cam(logits_of, features, torch::tensor({true})), c10::Error);
}

TEST(GradCam, ClassifierMapsHaveTheLastBlocksShape) {
  CargoClassifier model(CargoClassifierOptions{"resnet18", 16, 0.25});
  model->eval();
  torch::InferenceMode inference;
  const torch::Tensor features = model->features(torch::rand({2, 3, 64, 64}));
  const torch::Tensor cam = grad_cam(model, features, torch::tensor({true, false}));
  ASSERT_EQ(cam.sizes(), torch::IntArrayRef({2, 2, 2}));
  EXPECT_GE(cam.min().item<float>(), 0.f);
  EXPECT_LE(cam.max().item<float>(), 1.f + 1e-6f);
}

ocr::OcrReportCrop crop(std::string name, std::string prediction, double confidence, std::optional<std::string> truth) {
  ocr::OcrReportCrop c;
  c.name = std::move(name);
  c.prediction = std::move(prediction);
  c.confidence = confidence;
  c.ground_truth = truth;
  if (truth) {
    const auto score = ocr::score_prediction(c.prediction, *truth, ocr::ScoringRules{true, false, ocr::decode_utf8(ocr::kSensitiveCharacters, "")});
    c.correct = score.correct;
    c.norm_ED = score.norm_ED;
    c.compared_prediction = score.compared_prediction;
    c.compared_ground_truth = score.compared_ground_truth;
  }
  c.original_uri = report::png_data_uri(cv::Mat(8, 20, CV_8UC1, cv::Scalar(128)));
  c.model_input_uri = c.original_uri;
  return c;
}

TEST(OcrReport, ConfidenceTableCountsErrorsOnEachSide) {
  const std::vector<ocr::OcrReportCrop> crops{crop("a", "3801", 0.99, "3801"), crop("b", "3881", 0.95, "3801"),
                                              crop("c", "22G1", 0.60, "22G1"), crop("d", "FB87", 0.30, "FB875209"),
                                              crop("e", "X", 0.10, std::nullopt)};
  const auto bands = ocr::confidence_table(crops, {0.5, 0.96});
  ASSERT_EQ(bands.size(), 2u);
  EXPECT_EQ(bands[0].accepted, 3u);  // a, b, c; e has no ground truth and is not counted
  EXPECT_EQ(bands[0].accepted_errors, 1u);
  EXPECT_EQ(bands[0].routed, 1u);
  EXPECT_EQ(bands[0].routed_errors, 1u);
  EXPECT_EQ(bands[1].accepted, 1u);
  EXPECT_EQ(bands[1].accepted_errors, 0u);
  EXPECT_EQ(bands[1].routed_errors, 2u);
  // Errors first, the most confident at the top; then reading order.
  EXPECT_EQ(ocr::report_order(crops), (std::vector<std::size_t>{1, 3, 0, 2, 4}));
}

TEST(OcrReport, DifferencesAreHighlightedPerCharacter) {
  const auto pair = ocr::highlight_differences("BEAU2656<31", "BEAU265693");
  EXPECT_EQ(pair.ground_truth, "BEAU2656<span class=\"sub\">9</span>3");
  EXPECT_EQ(pair.prediction, "BEAU2656<span class=\"sub\">&lt;</span>3<span class=\"extra\">1</span>");
  const auto missing = ocr::highlight_differences("FB87529", "FB875209");
  EXPECT_EQ(missing.ground_truth, "FB8752<span class=\"missing\">0</span>9");
  EXPECT_EQ(missing.prediction, "FB87529");
}

TEST(OcrReport, PageListsEveryCropErrorsFirst) {
  ocr::OcrReport r;
  r.saved_model = "runs/x/best_accuracy.pth";
  r.source = "crops/";
  r.model_description = "TPS-ResNet-BiLSTM-Attn";
  r.crops = {crop("right.png", "3801", 0.9, "3801"), crop("wrong.png", "3881", 0.8, "3801")};
  const std::string page = ocr::format_ocr_report_html(r);
  EXPECT_EQ(count_of(page, "<tr class=\"right\">") + count_of(page, "<tr class=\"wrong\">"), 2u);
  EXPECT_LT(page.find("wrong.png"), page.find("right.png"));
  EXPECT_NE(page.find("50.00 % (1/2)"), std::string::npos);
  EXPECT_NE(page.find("Confidence and errors"), std::string::npos);
  EXPECT_EQ(count_of(page, "data:image/png;base64,"), 4u);  // as read and as fed, per crop
}

ClassifierReportImage classified(const std::string& name, const std::string& truth, double probability,
                                 const std::string& thumbnail, const std::string& heat) {
  ClassifierReportImage image;
  image.row.image = name;
  image.row.ground_truth = truth;
  image.row.prediction = probability > 0.5 ? "loaded" : "empty";
  image.row.probability = probability;
  image.thumbnail_uri = thumbnail;
  image.heat_map_uri = heat;
  return image;
}

TEST(ClassifierReport, ErrorsFirstMostConfidentlyWrongOnTop) {
  const std::vector<ClassifierReportImage> images{
      classified("a", "empty", 0.1, "", ""), classified("b", "empty", 0.7, "", ""),
      classified("c", "loaded", 0.9, "", ""), classified("d", "loaded", 0.02, "", "")};
  EXPECT_EQ(report_order(images, 0.5), (std::vector<std::size_t>{3, 1, 0, 2}));
}

// A thousand test images with their heat maps stay near 10 MB (the bound).
TEST(ClassifierReport, ThousandImagesStayUnderTenMegabytes) {
  std::vector<std::pair<std::string, std::string>> pictures;
  for (unsigned seed = 0; seed < 16; ++seed) {
    cv::Mat thumb = report::fit_within(testing::synthetic_wagon(static_cast<int>(seed % 2), 224, seed), 112);
    cv::Mat heat(7, 7, CV_32FC1);
    cv::randu(heat, 0.0, 1.0);
    pictures.emplace_back(report::jpeg_data_uri(thumb, 70), report::jpeg_data_uri(report::overlay_heat_map(thumb, heat), 70));
  }
  ClassifierReport r;
  r.class_names = {"empty", "loaded"};
  r.metrics = compute_binary_metrics({0, 1, 1}, {0, 1, 0});
  for (int i = 0; i < 1000; ++i) {
    const auto& [thumb, heat] = pictures[static_cast<std::size_t>(i) % pictures.size()];
    r.images.push_back(classified(fmt::format("{}/wagon_{:04d}.jpg", i % 2 ? "loaded" : "empty", i),
                                  i % 2 ? "loaded" : "empty", (i % 7) / 7.0, thumb, heat));
  }
  const std::string page = format_classifier_report_html(r);
  EXPECT_LT(page.size(), 10u * 1000 * 1000) << page.size();
  EXPECT_EQ(count_of(page, "<figure class=\"card"), 1000u);
  EXPECT_EQ(count_of(page, "data:image/jpeg;base64,"), 2000u);
  EXPECT_NE(page.find("<th>empty</th><td class=\"number right\">1</td><td class=\"number wrong\">0</td>"), std::string::npos);
}

TEST(TrainingCurves, ReadsTheOriginalLogAndKeepsTheLastRun) {
  const std::string log =
      "[1/300] Train loss: 4.10000, Valid loss: 4.00000, Elapsed_time: 1.0\n"
      "Current_accuracy : 0.000, Current_norm_ED  : 0.00\n"
      "Best_accuracy    : 0.000, Best_norm_ED     : 0.00\n"
      "[1/300] Train loss: 3.90000, Valid loss: 3.80000, Elapsed_time: 1.2\n"  // a fresh run appended
      "Current_accuracy : 1.000, Current_norm_ED  : 0.05\n"
      "Best_accuracy    : 1.000, Best_norm_ED     : 0.05\n"
      "--------------------------------------------------------------------------------\n"
      "Ground Truth              | Prediction                | Confidence Score & T/F\n"
      "3801                      | 3801                      | 0.9000\tTrue\n"
      "[250/300] Train loss: 0.50000, Valid loss: 0.60000, Elapsed_time: 99.0\r\n"
      "Current_accuracy : 44.800, Current_norm_ED  : 0.80\r\n";
  const auto points = ocr::parse_log_train(log);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].iteration, 1);
  EXPECT_DOUBLE_EQ(points[0].train_loss, 3.9);
  EXPECT_EQ(points[1].iteration, 250);
  EXPECT_DOUBLE_EQ(points[1].valid_loss, 0.6);
  EXPECT_DOUBLE_EQ(points[1].accuracy, 44.8);
  EXPECT_DOUBLE_EQ(points[1].norm_ED, 0.8);
  const cv::Mat curves = ocr::render_training_curves(points);
  EXPECT_EQ(curves.size(), cv::Size(3 * 560, 380));

  testing::TempDir dir;
  testing::write_bytes(dir.path() / "log_train.txt", log);
  EXPECT_EQ(ocr::write_training_curves((dir.path() / "log_train.txt").string(), (dir.path() / "curves.png").string()), 2u);
  EXPECT_EQ(cv::imread((dir.path() / "curves.png").string()).size(), curves.size());
  testing::write_bytes(dir.path() / "empty_log.txt", "");
  EXPECT_EQ(ocr::write_training_curves((dir.path() / "empty_log.txt").string(), (dir.path() / "none.png").string()), 0u);
  EXPECT_FALSE(fs::exists(dir.path() / "none.png"));
  EXPECT_THROW(ocr::write_training_curves((dir.path() / "missing.txt").string(), (dir.path() / "x.png").string()), Error);
}

// The browser check itself must be able to fail: a missing image and a script error are seen.
TEST(Browser, SeesBrokenImagesAndScriptErrors) {
  testing::TempDir dir;
  const fs::path good = dir.path() / "good.html", broken = dir.path() / "broken.html";
  const std::string pixel = report::png_data_uri(cv::Mat(2, 2, CV_8UC1, cv::Scalar(7)));
  testing::write_bytes(good, report::html_document("good", "", "<img src=\"" + pixel + "\">"));
  testing::write_bytes(broken, report::html_document("broken", "",
                                                     "<img src=\"missing.png\"><script>undefined_function();</script>"));
  const auto seen_good = testing::check_page_in_browser(good);
  if (!seen_good.available) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh --reference installs it)";
  ASSERT_TRUE(seen_good.ready) << seen_good.detail;
  EXPECT_EQ(seen_good.images, 1);
  EXPECT_EQ(seen_good.broken_images, 0);
  EXPECT_EQ(seen_good.script_errors, 0);
  const auto seen_broken = testing::check_page_in_browser(broken);
  ASSERT_TRUE(seen_broken.ready) << seen_broken.detail;
  EXPECT_EQ(seen_broken.broken_images, 1);
  EXPECT_GE(seen_broken.script_errors, 1);
}

}  // namespace
}  // namespace cargovision
