#include <gtest/gtest.h>

#include <set>

#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cargovision/core/error.h"
#include "cargovision/io/state_dict.h"
#include "cargovision/models/fast_kernels.h"
#include "cargovision/ocr/checkpoint.h"
#include "cargovision/ocr/converter.h"
#include "cargovision/ocr/metrics.h"
#include "cargovision/ocr/model.h"
#include "cargovision/ocr/recognize.h"
#include "cargovision/ocr/sequence_prediction.h"
#include "cargovision/ocr/text.h"
#include "cargovision/ocr/transformation.h"
#include "cargovision/train/adadelta.h"
#include "test_config.h"
#include "test_support.h"

namespace cv_ = cargovision;
namespace ocr = cargovision::ocr;
namespace fs = std::filesystem;

namespace {

ocr::OcrModelOptions tiny(const std::string& t, const std::string& f, const std::string& s, const std::string& p) {
  ocr::OcrModelOptions o;
  o.Transformation = t;
  o.FeatureExtraction = f;
  o.SequenceModeling = s;
  o.Prediction = p;
  o.num_fiducial = 6;
  o.imgH = 32;
  o.imgW = 64;
  o.output_channel = 32;
  o.hidden_size = 16;
  o.num_class = p == "CTC" ? 11 : 12;
  o.batch_max_length = 5;
  return o;
}

struct KeySpec {
  std::string name;
  std::vector<int64_t> shape;
};

// Reads ../shared-style spec lists: "key<TAB>[a, b]<TAB>dtype", '#' comment lines.
std::vector<KeySpec> read_key_spec(const fs::path& path, int64_t& parameter_count) {
  std::ifstream file(path);
  std::vector<KeySpec> keys;
  std::string line;
  while (std::getline(file, line)) {
    if (line.rfind("# parameters (trainable) ", 0) == 0) parameter_count = std::stoll(line.substr(25));
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    KeySpec spec;
    std::string shape;
    std::getline(fields, spec.name, '\t');
    std::getline(fields, shape, '\t');
    for (char& c : shape) {
      if (c == '[' || c == ']' || c == ',') c = ' ';
    }
    std::istringstream dims(shape);
    int64_t d = 0;
    while (dims >> d) spec.shape.push_back(d);
    keys.push_back(spec);
  }
  return keys;
}

}  // namespace

using StageNames = std::tuple<const char*, const char*, const char*, const char*>;

std::string stage_combination_name(const ::testing::TestParamInfo<StageNames>& info) {
  return std::string(std::get<0>(info.param)) + "_" + std::get<1>(info.param) + "_" + std::get<2>(info.param) + "_" +
         std::get<3>(info.param);
}

std::string key_spec_name(const ::testing::TestParamInfo<const char*>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

class AllStageCombinations : public ::testing::TestWithParam<std::tuple<const char*, const char*, const char*, const char*>> {};

TEST_P(AllStageCombinations, ForwardBackwardShapes) {
  const auto [t, f, s, p] = GetParam();
  torch::manual_seed(0);
  ocr::OcrModel model(tiny(t, f, s, p));
  const auto input = torch::randn({2, 1, 32, 64});
  const auto text = torch::randint(0, model->options().num_class, {2, model->options().batch_max_length + 1});
  const auto logits = model->forward(input, text, true);
  const int64_t steps = std::string(p) == "CTC" ? model->sequence_length() : model->options().batch_max_length + 1;
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{2, steps, model->options().num_class}));
  logits.sum().backward();
  for (const auto& parameter : model->parameters()) {
    ASSERT_TRUE(parameter.grad().defined());
  }
  model->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model->forward(input, text, false).sizes(), logits.sizes());
}

INSTANTIATE_TEST_SUITE_P(Ocr, AllStageCombinations,
                         ::testing::Combine(::testing::Values("None", "TPS"), ::testing::Values("VGG", "RCNN", "ResNet"),
                                            ::testing::Values("None", "BiLSTM"), ::testing::Values("CTC", "Attn")),
                         stage_combination_name);

TEST(OcrModel, SequenceLengthsOfTheFullSizeExtractors) {
  auto options = tiny("None", "VGG", "None", "CTC");
  options.imgW = 100;
  options.output_channel = 64;
  EXPECT_EQ(ocr::OcrModel(options)->sequence_length(), 24);
  options.FeatureExtraction = "ResNet";
  EXPECT_EQ(ocr::OcrModel(options)->sequence_length(), 26);
  options.FeatureExtraction = "RCNN";
  EXPECT_EQ(ocr::OcrModel(options)->sequence_length(), 26);
}

TEST(OcrModel, BadConfigurationsGiveClearErrors) {
  auto options = tiny("TPS", "Inception", "BiLSTM", "Attn");
  try {
    ocr::OcrModel model(options);
    FAIL();
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown FeatureExtraction 'Inception' (valid: VGG, RCNN, ResNet)"), std::string::npos);
  }
  options = tiny("None", "VGG", "None", "CTC");
  options.imgH = 16;
  try {
    ocr::OcrModel model(options);
    FAIL();
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("16x64 is too small for FeatureExtraction VGG"), std::string::npos);
  }
}

class OriginalKeys : public ::testing::TestWithParam<const char*> {};

TEST_P(OriginalKeys, StateDictMatchesTheSpecKeyForKey) {
  const std::string name = GetParam();
  const fs::path spec = fs::path(cv_::kSourceDir) / "tests" / "data" / "ocr_keys" / (name + ".tsv");
  int64_t expected_parameters = 0;
  const auto keys = read_key_spec(spec, expected_parameters);
  ASSERT_FALSE(keys.empty()) << spec;
  ocr::OcrModelOptions options;
  std::istringstream stages(name);
  std::getline(stages, options.Transformation, '-');
  std::getline(stages, options.FeatureExtraction, '-');
  std::getline(stages, options.SequenceModeling, '-');
  std::getline(stages, options.Prediction, '-');
  const bool sensitive = name.find("case-sensitive") != std::string::npos;
  options.num_class = (sensitive ? 94 : 36) + (options.Prediction == "CTC" ? 1 : 2);
  ocr::OcrModel model(options);
  const auto state = cv_::module_state_dict(*model);
  ASSERT_EQ(state.size(), keys.size());
  std::size_t i = 0;
  for (const auto& item : state) {
    EXPECT_EQ("module." + item.key(), keys[i].name) << "entry " << i;
    EXPECT_EQ(item.value().sizes().vec(), keys[i].shape) << keys[i].name;
    ++i;
  }
  EXPECT_EQ(ocr::count_trainable_parameters(*model), expected_parameters);
}

INSTANTIATE_TEST_SUITE_P(Ocr, OriginalKeys,
                         ::testing::Values("TPS-ResNet-BiLSTM-Attn-case-sensitive", "TPS-ResNet-BiLSTM-CTC-case-insensitive",
                                           "None-VGG-BiLSTM-CTC-case-insensitive", "None-RCNN-None-CTC-case-insensitive"),
                         key_spec_name);

TEST(OcrModel, TpsGridConstantsSolveTheSpline) {
  ocr::GridGenerator grid(20, 32, 100);
  EXPECT_EQ(grid->P_hat.sizes(), (std::vector<int64_t>{3200, 23}));
  // P_hat's first columns: 1, then the pixel-centre grid (x fastest).
  EXPECT_FLOAT_EQ(grid->P_hat[0][1].item<float>(), -0.99f);
  EXPECT_FLOAT_EQ(grid->P_hat[1][1].item<float>(), -0.97f);
  EXPECT_FLOAT_EQ(grid->P_hat[0][2].item<float>(), -31.0f / 32.0f);
  // With the target fiducials as C', the generated grid reproduces P (the identity warp).
  const auto x = torch::linspace(-1, 1, 10);
  const auto c = torch::cat({torch::stack({x, -torch::ones(10)}, 1), torch::stack({x, torch::ones(10)}, 1)}).unsqueeze(0);
  const auto warped = grid->forward(c).reshape({-1, 2});
  EXPECT_LT((warped - grid->P_hat.slice(1, 1, 3)).abs().max().item<float>(), 1e-4f);
  const auto bias = ocr::initial_fiducials(20);
  EXPECT_FLOAT_EQ(bias[0][1].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(bias[9][1].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(bias[10][1].item<float>(), 1.0f);
}

TEST(Converters, CtcEncodeDecodeRules) {
  ocr::CtcLabelConverter converter("0123456789abc");
  EXPECT_EQ(converter.num_class(), 14);
  const auto encoded = converter.encode({"3801", "ab"}, 6);
  EXPECT_EQ(encoded.text.sizes(), (std::vector<int64_t>{2, 6}));
  EXPECT_EQ(encoded.text[0][0].item<int64_t>(), 4);  // '3' at index 3 + 1 (blank = 0)
  EXPECT_EQ(encoded.text[0][4].item<int64_t>(), 0);
  EXPECT_EQ(encoded.length[1].item<int64_t>(), 2);
  // Repeats collapse, blanks separate real doubles: "3 3 _ 3 8 _ 0 1 1" -> "33801".
  const auto indices = torch::tensor({4, 4, 0, 4, 9, 0, 1, 2, 2}, torch::kLong).unsqueeze(0);
  EXPECT_EQ(converter.decode(indices)[0], "33801");
  EXPECT_THROW(converter.encode({"x"}, 5), cv_::Error);
  EXPECT_THROW(converter.encode({"0123456"}, 5), cv_::Error);
}

TEST(Converters, AttnLayoutAndRoundTrip) {
  ocr::AttnLabelConverter converter(cv_::ocr::kSensitiveCharacters);
  EXPECT_EQ(converter.num_class(), 96);
  const auto encoded = converter.encode({"983S11B41", "FB875209"}, 25);
  ASSERT_EQ(encoded.text.sizes(), (std::vector<int64_t>{2, 27}));
  EXPECT_EQ(encoded.text[0][0].item<int64_t>(), 0);   // [GO]
  EXPECT_EQ(encoded.text[0][1].item<int64_t>(), 11);  // '9' = 9 + 2
  EXPECT_EQ(encoded.text[0][10].item<int64_t>(), 1);  // [s]
  EXPECT_EQ(encoded.length[0].item<int64_t>(), 10);
  EXPECT_EQ(converter.decode(encoded.text.slice(1, 1)), (std::vector<std::string>{"983S11B41", "FB875209"}));
  const auto probabilities = torch::full({1, 4}, 0.5);
  const auto steps = torch::tensor({5, 6, 1, 7}, torch::kLong).unsqueeze(0);
  EXPECT_DOUBLE_EQ(converter.confidence(probabilities, steps)[0], 0.25);  // up to [s]
  EXPECT_DOUBLE_EQ(converter.confidence(probabilities, torch::tensor({1, 5}, torch::kLong).unsqueeze(0))[0], 0.0);
  try {
    ocr::AttnLabelConverter duplicate("0123a56a");
    FAIL();
  } catch (const cv_::Error& e) {
    EXPECT_NE(std::string(e.what()).find("holds 'a' twice"), std::string::npos);
  }
}

TEST(Metrics, NormalizedEditDistanceByHand) {
  EXPECT_EQ(ocr::edit_distance(U"kitten", U"sitting"), 3u);
  EXPECT_DOUBLE_EQ(ocr::normalized_edit_similarity("3801", "3801"), 1.0);
  EXPECT_DOUBLE_EQ(ocr::normalized_edit_similarity("380", "3801"), 0.75);       // 1 - 1/4
  EXPECT_DOUBLE_EQ(ocr::normalized_edit_similarity("983S11B4X1", "983S11B41"), 0.9);  // 1 - 1/10
  EXPECT_DOUBLE_EQ(ocr::normalized_edit_similarity("", "3801"), 0.0);
  EXPECT_DOUBLE_EQ(ocr::normalized_edit_similarity("3801", ""), 0.0);
  EXPECT_EQ(ocr::alphanumeric_lower("FB-875 209!"), "fb875209");
}

TEST(Adadelta, MatchesTheUpdateRuleByHand) {
  auto p = torch::tensor({1.0, -2.0}, torch::requires_grad());
  cv_::Adadelta optimizer({p}, 1.0, 0.95, 1e-8);
  for (int step = 0; step < 2; ++step) {
    p.mutable_grad() = torch::tensor({0.5, -1.0});
    optimizer.step();
  }
  // Naive reference for one element, g = 0.5, two steps.
  double square = 0, acc = 0, value = 1.0;
  for (int step = 0; step < 2; ++step) {
    square = 0.95 * square + 0.05 * 0.25;
    const double delta = std::sqrt(acc + 1e-8) / std::sqrt(square + 1e-8) * 0.5;
    acc = 0.95 * acc + 0.05 * delta * delta;
    value -= delta;
  }
  EXPECT_NEAR(p[0].item<double>(), value, 1e-7);
}

TEST(OcrCheckpoint, SaveLoadGivesIdenticalOutputsAndReportsMismatches) {
  cv_::testing::TempDir dir;
  torch::manual_seed(3);
  ocr::OcrModel model(tiny("TPS", "ResNet", "BiLSTM", "Attn"));
  ocr::initialize_like_original(*model);
  model->eval();
  const auto input = torch::randn({2, 1, 32, 64});
  const auto path = (dir.path() / "best_accuracy.pth").string();
  ocr::save_ocr_checkpoint(*model, path, {{"iteration", 150}});
  EXPECT_EQ(ocr::checkpoint_iteration(path), 150);
  const auto stored = cv_::load_state_dict_file(path);
  EXPECT_NE(stored.find("module.Prediction.generator.weight"), nullptr);  // DataParallel names

  torch::manual_seed(99);
  ocr::OcrModel restored(tiny("TPS", "ResNet", "BiLSTM", "Attn"));
  ocr::load_ocr_checkpoint(*restored, path, false);
  restored->eval();
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(model->forward(input, {}, false), restored->forward(input, {}, false)));

  auto other = tiny("TPS", "ResNet", "BiLSTM", "Attn");
  other.num_class = 20;
  ocr::OcrModel different(other);
  try {
    ocr::load_ocr_checkpoint(*different, path, false);
    FAIL();
  } catch (const cv_::Error& e) {
    EXPECT_NE(std::string(e.what()).find("shape mismatch at module.Prediction.attention_cell.rnn.weight_ih: checkpoint [64, 28] vs model [64, 36]"),
              std::string::npos)
        << e.what();
  }
  // The message says which options decide what does not fit.
  try {
    ocr::load_ocr_checkpoint(*different, path, false);
    FAIL();
  } catch (const cv_::Error& e) {
    EXPECT_NE(std::string(e.what()).find("the checkpoint reads 12 classes and these options give 20: --sensitive and "
                                         "--character decide the count"),
              std::string::npos)
        << e.what();
  }
  for (const auto& [stages, flag] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"TPS", "ResNet", "BiLSTM", "CTC"}, "its Prediction stage differs from these options: check --Prediction"},
           {{"None", "ResNet", "BiLSTM", "Attn"}, "its Transformation stage differs from these options: check --Transformation"},
           {{"TPS", "VGG", "BiLSTM", "Attn"}, "its FeatureExtraction stage differs"}}) {
    ocr::OcrModel changed(tiny(stages[0], stages[1], stages[2], stages[3]));
    try {
      ocr::load_ocr_checkpoint(*changed, path, false);
      FAIL() << stages[3];
    } catch (const cv_::Error& e) {
      EXPECT_NE(std::string(e.what()).find(flag), std::string::npos) << e.what();
    }
  }
  const auto report = ocr::load_ocr_checkpoint(*different, path, true);  // --FT keeps what fits
  EXPECT_EQ(report.mismatched.size(), 3u);  // rnn.weight_ih, generator.weight, generator.bias
  EXPECT_GT(report.loaded.size(), 100u);
}

TEST(OcrTraining, TinyModelLearnsTwoCodes) {
  torch::manual_seed(1);
  auto options = tiny("None", "VGG", "BiLSTM", "CTC");
  ocr::CtcLabelConverter converter("0123456789");
  options.num_class = converter.num_class();
  ocr::OcrModel model(options);
  ocr::initialize_like_original(*model);
  // Two synthetic "codes": vertical bars at code-specific positions.
  auto images = torch::full({8, 1, 32, 64}, -1.0);
  std::vector<std::string> labels;
  for (int i = 0; i < 8; ++i) {
    const bool first = i % 2 == 0;
    for (int k = 0; k < 3; ++k) images[i][0].slice(1, 8 + k * (first ? 16 : 12), 14 + k * (first ? 16 : 12)).fill_(1.0);
    labels.push_back(first ? "380" : "1");
  }
  images += 0.1 * torch::randn(images.sizes());
  std::vector<torch::Tensor> params = model->parameters();
  cv_::Adadelta optimizer(params, 1.0, 0.95, 1e-8);
  const auto target = converter.encode(labels, options.batch_max_length);
  double first_loss = 0, last_loss = 0;
  for (int step = 0; step < 60; ++step) {
    model->zero_grad();
    auto loss = ocr::recognition_loss(model, model->forward(images, target.text, true), target);
    loss.backward();
    torch::nn::utils::clip_grad_norm_(params, 5.0);
    optimizer.step();
    if (step == 0) first_loss = loss.item<double>();
    last_loss = loss.item<double>();
  }
  EXPECT_LT(last_loss, 0.5 * first_loss);
  model->eval();
  torch::NoGradGuard no_grad;
  const auto recognition = ocr::recognize(model, converter, images);
  int correct = 0;
  for (int i = 0; i < 8; ++i) correct += recognition.predictions[i] == labels[i];
  EXPECT_GE(correct, 6) << "loss " << first_loss << " -> " << last_loss;
}

// demo_ocr stops decoding once every image has emitted [s]. The test ties the [s] logit to the class k that the
// untouched model predicts most: [s] = 2 * logit_k - c wins once logit_k exceeds c, and since each row's logit_k
// grows at its own pace, rows end at different steps.
TEST(OcrInference, StoppingAtTheLastEndOfSentenceChangesNoPrediction) {
  torch::manual_seed(5);
  auto options = tiny("None", "VGG", "BiLSTM", "Attn");
  options.batch_max_length = 25;
  ocr::AttnLabelConverter converter("0123456789");
  options.num_class = converter.num_class();
  ocr::OcrModel model(options);
  ocr::initialize_like_original(*model);
  model->eval();
  torch::NoGradGuard no_grad;
  const auto images = torch::randn({6, 1, 32, 64});
  const auto untouched = model->predict(images);  // [B, 26, classes]
  const int64_t k = std::get<0>(untouched.argmax(2).flatten().mode()).item<int64_t>();
  const double c = untouched.select(2, k).select(1, 3).median().item<double>();
  auto parameters = model->named_parameters();
  auto weight = parameters["Prediction.generator.weight"], bias = parameters["Prediction.generator.bias"];
  weight[1].copy_(2 * weight[k]);
  bias[1].fill_(2 * bias[k].item<double>() - c);

  const auto full = ocr::recognize(model, converter, images);
  const auto early = ocr::recognize(model, converter, images, /*stop_when_all_ended=*/true);
  const auto indices = full.logits.argmax(2);
  std::set<int64_t> end_steps;
  int64_t last_end = 0;
  for (int64_t b = 0; b < indices.size(0); ++b) {
    const auto ends = (indices[b] == 1).nonzero();
    ASSERT_GT(ends.numel(), 0) << "row " << b << " never emits [s]; the test needs every row to end";
    end_steps.insert(ends[0][0].item<int64_t>());
    last_end = std::max(last_end, ends[0][0].item<int64_t>());
  }
  EXPECT_GE(end_steps.size(), 2u) << "rows should end at different steps";  // here steps 3 and 4
  ASSERT_EQ(full.logits.size(1), 26);
  EXPECT_EQ(early.logits.size(1), last_end + 1);
  EXPECT_TRUE(torch::equal(early.logits, full.logits.narrow(1, 0, last_end + 1)));
  EXPECT_EQ(early.predictions, full.predictions);
  ASSERT_EQ(early.confidence.size(), full.confidence.size());
  for (std::size_t i = 0; i < full.confidence.size(); ++i) EXPECT_DOUBLE_EQ(early.confidence[i], full.confidence[i]);
  // Without the flag, or for CTC, every step runs.
  EXPECT_EQ(model->predict(images).size(1), 26);
  EXPECT_TRUE(torch::equal(model->predict(images), model->forward(images, {}, false)));

  // Read in slices (as rereading does): one image per slice, so the slices stop at different steps; the
  // same readings, and each row's logits up to where its reading ends (to float rounding: batch 1 runs other
  // kernels), zeros after.
  const auto sliced = ocr::recognize_in_slices(model, converter, images, 1, /*stop_when_all_ended=*/true);
  EXPECT_EQ(sliced.predictions, early.predictions);
  ASSERT_EQ(sliced.confidence.size(), early.confidence.size());
  for (std::size_t i = 0; i < early.confidence.size(); ++i) {
    EXPECT_NEAR(sliced.confidence[i], early.confidence[i], 1e-4 * early.confidence[i]);
  }
  ASSERT_EQ(sliced.logits.sizes(), early.logits.sizes());
  for (int64_t b = 0; b < indices.size(0); ++b) {
    const int64_t end = (indices[b] == 1).nonzero()[0][0].item<int64_t>();
    EXPECT_TRUE(torch::allclose(sliced.logits[b].narrow(0, 0, end + 1), early.logits[b].narrow(0, 0, end + 1), 1e-4, 1e-4))
        << "row " << b;
    EXPECT_EQ(sliced.logits[b].narrow(0, end + 1, last_end - end).abs().sum().item<float>(), 0.f) << "row " << b;
  }
  EXPECT_THROW(ocr::recognize_in_slices(model, converter, images, 0), c10::Error);
}

// The fast kernels decode greedily with the step-invariant products taken out of the loop; LibTorch's kernels
// run the original's step (LSTMCell on [context, one-hot]). Random weights and biases everywhere, a batch
// whose rows take different paths: the same logits to float rounding, the same characters.
TEST(OcrInference, PrecomputedGreedyDecodingMatchesThePlainSteps) {
  torch::manual_seed(11);
  const int64_t input_size = 24, hidden = 16, classes = 12, length = 9;
  ocr::Attention attention(input_size, hidden, classes);
  {
    torch::NoGradGuard no_grad;
    for (auto& parameter : attention->parameters()) parameter.uniform_(-0.6, 0.6);
  }
  attention->eval();
  const auto features = torch::randn({5, 13, input_size});
  torch::NoGradGuard no_grad;
  const bool was_enabled = cv_::models::fast_kernels_enabled();
  cv_::models::set_fast_kernels_enabled(false);
  const auto plain = attention->forward(features, {}, false, length);
  const auto plain_early = attention->forward(features, {}, false, length, /*stop_when_all_ended=*/true);
  cv_::models::set_fast_kernels_enabled(true);
  const auto fast = attention->forward(features, {}, false, length);
  const auto fast_early = attention->forward(features, {}, false, length, /*stop_when_all_ended=*/true);
  cv_::models::set_fast_kernels_enabled(was_enabled);

  ASSERT_EQ(fast.sizes(), plain.sizes());
  EXPECT_LT((fast - plain).abs().max().item<double>(), 1e-5);
  EXPECT_FALSE(torch::equal(fast, plain)) << "bit for bit the same: the precomputed decoder did not run";
  EXPECT_TRUE(torch::equal(fast.argmax(2), plain.argmax(2)));
  EXPECT_GE(std::get<0>(at::_unique(plain.argmax(2))).numel(), 3) << "the decoded paths should differ";
  ASSERT_EQ(fast_early.sizes(), plain_early.sizes());
  EXPECT_LT((fast_early - plain_early).abs().max().item<double>(), 1e-5);
  // Training keeps the original's steps (and their gradients) whichever kernels run.
  const auto text = torch::randint(0, classes, {5, length + 1}, torch::kLong);
  EXPECT_TRUE(torch::equal(attention->forward(features, text, true, length),
                           [&] {
                             cv_::models::set_fast_kernels_enabled(false);
                             auto result = attention->forward(features, text, true, length);
                             cv_::models::set_fast_kernels_enabled(was_enabled);
                             return result;
                           }()));
}

// Each stage against the recognizer written in plain PyTorch as the original computes it
// (tests/python/ocr_stage_reference.py): same weights, same input, outputs within 1e-4 of each stage's
// scale with PyTorch's kernels and with ours.
TEST(OcrParity, StagesMatchThePythonReference) {
  if (std::string(cv_::kReferencePython).empty()) GTEST_SKIP() << "python3-torch not installed";
  cv_::testing::TempDir dir;
  for (const std::string stages : {"TPS-ResNet-BiLSTM-Attn", "None-VGG-BiLSTM-CTC"}) {
    const bool attention = stages.find("Attn") != std::string::npos;
    ocr::OcrModelOptions options = tiny(attention ? "TPS" : "None", attention ? "ResNet" : "VGG", "BiLSTM",
                                        attention ? "Attn" : "CTC");
    options.num_fiducial = 20;
    options.imgW = 100;
    options.batch_max_length = 25;
    torch::manual_seed(20261125);
    ocr::OcrModel model(options);
    ocr::initialize_like_original(*model);
    {
      // Running statistics and a TPS that is not the identity, so that every stage has work to do.
      torch::NoGradGuard no_grad;
      for (auto& item : model->named_buffers()) {
        if (item.key().find("running_mean") != std::string::npos) item.value().uniform_(-0.2, 0.2);
        if (item.key().find("running_var") != std::string::npos) item.value().uniform_(0.5, 1.5);
      }
      for (auto& item : model->named_parameters()) {
        if (item.key().find("localization_fc2.weight") != std::string::npos) item.value().normal_(0.0, 0.002);
      }
    }
    model->eval();
    // Smooth images: on noise, a sampling grid off by a rounding error changes the TPS output a lot,
    // which says nothing about whether the two implementations compute the same thing.
    const auto rows = torch::linspace(0, 1, 32).view({1, 1, 32, 1});
    const auto columns = torch::linspace(0, 1, 100).view({1, 1, 1, 100});
    const auto phase = torch::tensor({0.0, 1.0, 2.0}).view({3, 1, 1, 1});
    const auto input = 0.8 * torch::sin(6.0 * columns + phase) * torch::cos(3.0 * rows - phase);
    const auto weights = (dir.path() / (stages + ".pth")).string();
    ocr::save_ocr_checkpoint(*model, weights, {{"iteration", 0}});
    cv_::StateDict inputs;
    inputs.insert("input", input);
    cv_::save_state_dict(inputs, (dir.path() / "input.pth").string());
    const auto expected_path = (dir.path() / (stages + "_reference.pth")).string();
    const std::string command = std::string(cv_::kReferencePython) + " " + cv_::kSourceDir +
                                "/tests/python/ocr_stage_reference.py " + weights + " " +
                                (dir.path() / "input.pth").string() + " " + stages + " 32 16 " + expected_path;
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    const auto expected = cv_::load_state_dict_file(expected_path);

    for (const std::string kernels : {"libtorch", "fast"}) {
      cv_::models::use_kernels(kernels);
      torch::NoGradGuard no_grad;
      // Each stage is fed the reference's output of the stage before, so that a difference points at
      // the stage itself rather than at rounding carried through a 30-layer ResNet.
      const auto reference = [&](const char* name) { return *expected.find(name); };
      const auto rectified = model->transformation ? model->transformation->forward(input) : input;
      const auto features = model->feature_extraction->forward(reference("transformation"));
      const auto pooled = reference("features").permute({0, 3, 1, 2}).mean(3);
      const auto contextual = model->sequence_modeling->forward(pooled);
      const auto prediction = attention ? model->attention_prediction->forward(reference("contextual"), {}, false, 25)
                                        : model->ctc_prediction->forward(reference("contextual"));
      // And end to end for CTC (a greedy attention decoder may flip a near-tie and then diverge), within
      // what that rounding allows.
      if (!attention) {
        EXPECT_LT((model->predict(input) - reference("prediction")).abs().max().item<double>(), 2e-3) << stages;
      }
      const std::pair<const char*, torch::Tensor> outputs[] = {
          {"transformation", rectified}, {"features", features}, {"contextual", contextual}, {"prediction", prediction}};
      for (const auto& [name, ours] : outputs) {
        const torch::Tensor* theirs = expected.find(name);
        ASSERT_NE(theirs, nullptr) << name;
        ASSERT_EQ(ours.sizes(), theirs->sizes()) << stages << " " << name;
        // 1e-4 of the stage's scale: a ResNet's features reach magnitudes of ~100, where float32
        // summation order alone moves the last digits.
        const double difference = (ours - *theirs).abs().max().item<double>();
        const double scale = std::max(1.0, theirs->abs().max().item<double>());
        EXPECT_LT(difference / scale, 1e-4) << stages << " " << name << " with " << kernels << " kernels: "
                                            << difference << " at scale " << scale;
      }
      if (attention) {
        EXPECT_EQ(prediction.size(1), 26);
      }
    }
    cv_::models::use_kernels("fast");
  }
}

// The original's own files: train.py saves torch.save(model.state_dict()) (an OrderedDict) and its
// published models are in the legacy (pre-1.6) format. Python rewrites our checkpoint both ways.
TEST(OcrCheckpoint, OriginalStyleFilesLoad) {
  if (std::string(cv_::kReferencePython).empty()) GTEST_SKIP() << "python3-torch not installed";
  cv_::testing::TempDir dir;
  torch::manual_seed(5);
  ocr::OcrModel model(tiny("TPS", "ResNet", "BiLSTM", "Attn"));
  ocr::initialize_like_original(*model);
  model->eval();
  const auto ours = (dir.path() / "ours.pth").string();
  ocr::save_ocr_checkpoint(*model, ours, {{"iteration", 1}});
  const auto legacy = (dir.path() / "legacy.pth").string();
  const auto ordered = (dir.path() / "ordered.pth").string();
  const std::string command = std::string(cv_::kReferencePython) +
                              " -c \"import sys, collections, torch; sd = collections.OrderedDict(torch.load(sys.argv[1])); "
                              "torch.save(sd, sys.argv[2], _use_new_zipfile_serialization=False); torch.save(sd, sys.argv[3])\" " +
                              ours + " " + legacy + " " + ordered;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const auto input = torch::randn({2, 1, 32, 64});
  torch::NoGradGuard no_grad;
  const auto expected = model->forward(input, {}, false);
  for (const auto& path : {legacy, ordered}) {
    torch::manual_seed(99);
    ocr::OcrModel restored(tiny("TPS", "ResNet", "BiLSTM", "Attn"));
    ocr::load_ocr_checkpoint(*restored, path, false);
    restored->eval();
    EXPECT_TRUE(torch::equal(expected, restored->forward(input, {}, false))) << path;
  }
}

// The recognizer's ResNet as one blocked oneDNN network (models/blocked_network.h), with its (2,1) pools and 2x2
// convolutions, against the same layers on LibTorch's own kernels. It runs only where oneDNN has Winograd
// kernels (AVX-512); elsewhere forward() runs the layers one by one. At width 128 the first convolution has 8
// channels, which fill no 16-channel block, so the network declines there too (oneDNN has only its reference
// kernel for that).
TEST(BlockedNetworkOcrResNet, MatchesLibTorchLayerByLayer) {
  if (!cv_::models::fast_kernels_available()) GTEST_SKIP() << "no oneDNN kernels in this build or on this CPU";
  torch::manual_seed(5);
  for (const int64_t width : {256, 128}) {
    ocr::OcrResNet net(1, width);
    {
      torch::NoGradGuard no_grad;
      for (auto& module : net->modules(/*include_self=*/false)) {
        if (auto* bn = dynamic_cast<cv_::models::BatchNorm2dImpl*>(module.get())) {
          bn->weight.uniform_(0.5, 1.0);
          bn->bias.uniform_(-0.2, 0.2);
          bn->running_mean.uniform_(-0.1, 0.1);
          bn->running_var.uniform_(0.8, 2.0);
        }
      }
    }
    net->eval();
    for (const int64_t batch : {1, 5}) {
      SCOPED_TRACE(::testing::Message() << "width " << width << ", batch " << batch);
      const auto input = torch::randn({batch, 1, 32, 100});
      torch::Tensor expected;
      {
        cv_::models::set_fast_kernels_enabled(false);
        torch::NoGradGuard no_grad;
        expected = net->forward(input);
        cv_::models::set_fast_kernels_enabled(true);
      }
      torch::Tensor actual;
      {
        torch::NoGradGuard no_grad;
        cv_::models::PackedWeightsScope scope;
        if (width == 256) {
          EXPECT_EQ(net->blocked_layers().forward(input).defined(), cv_::models::winograd_kernels_available());
        }
        actual = net->forward(input);
      }
      ASSERT_EQ(actual.sizes(), expected.sizes());
      EXPECT_EQ(actual.size(2), 1);  // one row of 26 columns for the sequence stage
      EXPECT_EQ(actual.size(3), 26);
      const double scale = expected.abs().max().item<double>();
      EXPECT_LE((actual - expected).abs().max().item<double>(), 1e-4 * scale);
    }
  }
}
