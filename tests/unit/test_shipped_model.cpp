// The shipped recognizer (data/models/codes_recognizer): found without options, loads strictly in the
// architecture its .json names, and reads fixed generated crops; and the packing that made it.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "cargovision/core/error.h"
#include "cargovision/io/json_file.h"
#include "cargovision/io/state_dict.h"
#include "cargovision/ocr/checkpoint.h"
#include "cargovision/ocr/converter.h"
#include "cargovision/ocr/demo.h"
#include "cargovision/ocr/model.h"
#include "cargovision/ocr/shipped_model.h"
#include "test_config.h"
#include "test_support.h"

namespace cargovision {
namespace {

namespace fs = std::filesystem;

// The model is data the project trains (scripts/pretrain_ocr.sh), committed once it reads codes; a
// checkout from before that has none, and the lookup's error is tested by the CLI tests instead.
bool shipped_model_present() {
  return fs::exists(fs::path(kSourceDir) / "data" / "models" / "codes_recognizer.pth");
}

#define REQUIRE_SHIPPED_MODEL() \
  if (!shipped_model_present()) GTEST_SKIP() << "data/models/codes_recognizer.pth is not in this checkout"

TEST(ShippedModel, IsFoundAndUnderTheSizeBudget) {
  REQUIRE_SHIPPED_MODEL();
  const std::string path = ocr::shipped_model_path();
  EXPECT_EQ(fs::path(path).filename(), "codes_recognizer.pth");
  EXPECT_LE(fs::file_size(path), 25u * 1000 * 1000) << "the repository keeps the shipped model <= 25 MB";
  const ocr::OcrDemoOptions options = ocr::shipped_demo_options();
  EXPECT_EQ(options.saved_model, path);
  EXPECT_EQ(options.Transformation, "TPS");
  EXPECT_EQ(options.FeatureExtraction, "ResNet");
  EXPECT_EQ(options.SequenceModeling, "BiLSTM");
  EXPECT_EQ(options.Prediction, "Attn");
  EXPECT_TRUE(options.sensitive) << "the seed's case-sensitive configuration must fine-tune from it";
}

TEST(ShippedModel, LoadsStrictlyWithTheSeedsCharacterSet) {
  REQUIRE_SHIPPED_MODEL();
  ocr::OcrDemoOptions options = ocr::shipped_demo_options();
  options.image_folder = (fs::path(kSourceDir) / "tests" / "data" / "ocr_crops").string();  // finalize() wants an input
  ocr::finalize(options);
  const auto converter = ocr::make_converter(options.Prediction, options.character);
  EXPECT_EQ(converter->num_class(), 96);  // 94 characters + [GO] + [s], as the seed's checkpoint
  ocr::OcrModel model(ocr::model_options(options, converter->num_class()));
  const auto report = ocr::load_ocr_checkpoint(*model, options.saved_model, /*fine_tune=*/false);
  EXPECT_TRUE(report.missing.empty() && report.unexpected.empty() && report.mismatched.empty()) << report.summary();
}

TEST(ShippedModel, ReadsFixedGeneratedCrops) {
  REQUIRE_SHIPPED_MODEL();
  testing::TempDir out;
  ocr::OcrDemoOptions options = ocr::shipped_demo_options();
  options.image_folder = (fs::path(kSourceDir) / "tests" / "data" / "ocr_crops").string();
  options.gt = (fs::path(options.image_folder) / "gt.txt").string();
  options.output_dir = out.str();
  options.log_level = "warn";
  ocr::finalize(options);
  const ocr::OcrDemoSummary summary = ocr::demo_ocr(options);
  ASSERT_EQ(summary.with_ground_truth, 10u);
  EXPECT_EQ(summary.correct, summary.with_ground_truth) << testing::read_text(summary.csv_path);
}

// A tiny recognizer, and the options sidecar train_ocr would write for it.
ocr::OcrModelOptions tiny_model_options() {
  ocr::OcrModelOptions options;
  options.output_channel = 32;
  options.hidden_size = 16;
  options.num_fiducial = 6;
  options.num_class = 96;
  return options;
}

nlohmann::json tiny_checkpoint_options() {
  nlohmann::json options = ocr::OcrTrainOptions{};
  options["output_channel"] = 32;
  options["hidden_size"] = 16;
  options["num_fiducial"] = 6;
  options["sensitive"] = true;
  return options;
}

TEST(ShippedModel, PackingHalvesTheWeightsAndKeepsTheOutputs) {
  testing::TempDir dir;
  ocr::OcrModelOptions model_options_ = tiny_model_options();
  torch::manual_seed(4);
  ocr::OcrModel model(model_options_);
  ocr::initialize_like_original(*model);
  const std::string checkpoint = (dir.path() / "best_accuracy.pth").string();
  nlohmann::json options = tiny_checkpoint_options();
  ocr::save_ocr_checkpoint(*model, checkpoint, {{"iteration", 10}, {"options", options}});

  ocr::PackOptions pack;
  pack.checkpoints = {checkpoint};
  pack.output_stem = (dir.path() / "packed").string();
  const std::size_t bytes = ocr::pack_ocr_model(pack);
  EXPECT_LT(bytes, fs::file_size(checkpoint) * 6 / 10);
  const auto stored = load_state_dict_file(pack.output_stem + ".pth");
  EXPECT_EQ(stored.find("module.FeatureExtraction.ConvNet.conv0_1.weight")->scalar_type(), torch::kHalf);
  EXPECT_EQ(stored.find("module.Transformation.GridGenerator.P_hat")->scalar_type(), torch::kFloat)
      << "the TPS grid constants keep full precision";
  const auto json = read_json_file(pack.output_stem + ".json");
  EXPECT_EQ(json.at("output_channel").get<int>(), 32);
  EXPECT_TRUE(json.at("sensitive").get<bool>());
  EXPECT_FALSE(json.contains("num_iter")) << "only what a demo or fine-tune needs to rebuild the model";

  ocr::OcrModel restored(model_options_);
  ocr::load_ocr_checkpoint(*restored, pack.output_stem + ".pth", false);
  model->eval();
  restored->eval();
  torch::NoGradGuard no_grad;
  const auto input = torch::rand({2, 1, 32, 100}) * 2 - 1;
  EXPECT_TRUE(torch::allclose(model->forward(input, {}, false), restored->forward(input, {}, false), 1e-2, 1e-2));

  fs::remove(checkpoint + ".json");
  pack.checkpoints = {checkpoint};
  try {
    ocr::pack_ocr_model(pack);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("best_accuracy.pth.json: no options sidecar"), std::string::npos) << e.what();
  }
}

// Checkpoint averaging: the package holds each weight's mean over the checkpoints (the TPS grid
// constants and counters as they are), and refuses checkpoints of another shape naming the first key.
TEST(ShippedModel, PackingSeveralCheckpointsAveragesTheirWeights) {
  testing::TempDir dir;
  ocr::OcrModelOptions model_options_ = tiny_model_options();
  nlohmann::json options = tiny_checkpoint_options();
  std::vector<std::string> checkpoints;
  std::vector<StateDict> states;
  for (int seed : {1, 2, 3}) {
    torch::manual_seed(seed);
    ocr::OcrModel model(model_options_);
    ocr::initialize_like_original(*model);
    checkpoints.push_back((dir.path() / fmt::format("iter_{}.pth", seed)).string());
    ocr::save_ocr_checkpoint(*model, checkpoints.back(), {{"iteration", seed}, {"options", options}});
    states.push_back(load_state_dict_file(checkpoints.back()));
  }
  ocr::PackOptions pack;
  pack.checkpoints = checkpoints;
  pack.output_stem = (dir.path() / "averaged").string();
  pack.half = false;
  ocr::pack_ocr_model(pack);
  const auto averaged = load_state_dict_file(pack.output_stem + ".pth");
  ASSERT_EQ(averaged.size(), states[0].size());
  int compared = 0;
  for (const auto& item : averaged) {
    const torch::Tensor& first = states[0][item.key()];
    if (!first.is_floating_point() || item.key().find("GridGenerator") != std::string::npos) {
      EXPECT_TRUE(torch::equal(item.value(), first)) << item.key();
      continue;
    }
    // A naive reference: element by element, in double.
    const torch::Tensor expected =
        (states[0][item.key()].to(torch::kDouble) + states[1][item.key()].to(torch::kDouble) +
         states[2][item.key()].to(torch::kDouble)) / 3.0;
    EXPECT_TRUE(torch::allclose(item.value().to(torch::kDouble), expected, 1e-6, 1e-7)) << item.key();
    ++compared;
  }
  EXPECT_GT(compared, 50);
  const std::string conv = "module.FeatureExtraction.ConvNet.conv0_1.weight";
  EXPECT_FALSE(torch::equal(averaged.find(conv)->to(torch::kFloat), states[0][conv])) << "not just the first one";

  // Another architecture: the first mismatched option is named, with the checkpoint.
  options["hidden_size"] = 8;
  model_options_.hidden_size = 8;
  ocr::OcrModel narrower(model_options_);
  const std::string other = (dir.path() / "narrower.pth").string();
  ocr::save_ocr_checkpoint(*narrower, other, {{"iteration", 1}, {"options", options}});
  pack.checkpoints = {checkpoints[0], other};
  try {
    ocr::pack_ocr_model(pack);
    FAIL() << "averaged two architectures";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("narrower.pth.json: option 'hidden_size' is 8, the first checkpoint's 16"),
              std::string::npos)
        << e.what();
  }
  // Same options, other weights' shapes (a hand-edited file): the first differing key is named.
  StateDict edited = states[1];
  edited[conv] = torch::zeros({1});
  save_state_dict(edited, checkpoints[1]);
  fs::copy_file(checkpoints[0] + ".json", checkpoints[1] + ".json", fs::copy_options::overwrite_existing);
  pack.checkpoints = {checkpoints[0], checkpoints[1]};
  try {
    ocr::pack_ocr_model(pack);
    FAIL() << "averaged tensors of different shapes";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("iter_2.pth: key '" + conv + "' has shape [1]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cargovision
