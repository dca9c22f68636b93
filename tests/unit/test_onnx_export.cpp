// ONNX export: every recognizer stage combination and the classifier backbones are exported, accepted by ONNX's
// Python checker, and run in onnxruntime (Node.js, tests/onnx) to the same logits and decoded strings as our
// model on the same input, with LibTorch's kernels (the arithmetic of PyTorch).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <opencv2/imgproc.hpp>

#include "cargovision/core/error.h"
#include "cargovision/data/pillow.h"
#include "cargovision/export/onnx_export.h"
#include "cargovision/export/onnx_models.h"
#include "cargovision/io/folder_walk.h"
#include "cargovision/io/image_reader.h"
#include "cargovision/models/fast_kernels.h"
#include "cargovision/ocr/align_collate.h"
#include "cargovision/ocr/code_check.h"
#include "cargovision/ocr/code_recognizer.h"
#include "cargovision/ocr/converter.h"
#include "cargovision/ocr/recognize.h"
#include "cargovision/ocr/reread.h"
#include "cargovision/ocr/shipped_model.h"
#include "test_config.h"
#include "test_support.h"

namespace cargovision {
namespace {
namespace fs = std::filesystem;

struct CommandResult {
  int status = -1;
  std::string output;
};

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) result.output += buffer.data();
  result.status = pclose(pipe);
  return result;
}

bool onnxruntime_available() {
  return !std::string(kNode).empty() && fs::exists(fs::path(kSourceDir) / "tests/onnx/node_modules/onnxruntime-node");
}

// ONNX's own checker with full shape inference; empty when the file passes.
std::string python_checker_complaint(const fs::path& model) {
  const auto result = run_command(std::string(kOnnxPython) +
                                  " -c \"import onnx, sys; onnx.checker.check_model(sys.argv[1], full_check=True)\" " +
                                  model.string());
  return result.status == 0 ? "" : result.output;
}

// Runs `model` in onnxruntime on `input` (float32) fed as "image"; returns every output by name.
std::map<std::string, torch::Tensor> run_onnxruntime(const fs::path& model, const torch::Tensor& input,
                                                     const fs::path& work) {
  fs::create_directories(work);
  const torch::Tensor data = input.contiguous().to(torch::kFloat);
  testing::write_bytes(work / "input.bin", std::string(static_cast<const char*>(data.data_ptr()), data.nbytes()));
  std::string dims;
  for (const auto size : data.sizes()) dims += (dims.empty() ? "" : ",") + std::to_string(size);
  const auto result = run_command(std::string(kNode) + " " + kSourceDir + "/tests/onnx/run_onnx.js " + model.string() +
                                  " image " + (work / "input.bin").string() + " " + dims + " " + work.string());
  if (result.status != 0) throw Error("onnxruntime failed: " + result.output);
  const auto index = nlohmann::json::parse(testing::read_text(work / "outputs.json"));
  std::map<std::string, torch::Tensor> outputs;
  for (const auto& [name, description] : index.items()) {
    const std::string bytes = testing::read_text(work / (name + ".bin"));
    const auto type = description.at("type").get<std::string>() == "int64" ? torch::kLong : torch::kFloat;
    const auto shape = description.at("dims").get<std::vector<int64_t>>();
    outputs[name] = torch::from_blob(const_cast<char*>(bytes.data()), shape, type).clone();
  }
  return outputs;
}

// Kernels of PyTorch for the comparisons, restored afterwards.
class LibTorchKernels {
 public:
  LibTorchKernels() : was_enabled_(models::fast_kernels_enabled()) { models::set_fast_kernels_enabled(false); }
  ~LibTorchKernels() { models::set_fast_kernels_enabled(was_enabled_); }

 private:
  bool was_enabled_;
};

// Running statistics from a few batches, as a trained network has them: activations then stay of order one
// through the layers, so an absolute tolerance means the same everywhere.
void calibrate_batch_norms(torch::nn::Module& model, const std::function<void(const torch::Tensor&)>& forward,
                           torch::IntArrayRef input_shape) {
  for (auto& module : model.modules()) {
    if (auto* norm = module->as<cargovision::models::BatchNorm2dImpl>()) norm->options.momentum(c10::nullopt);
  }
  model.train();
  torch::NoGradGuard no_grad;
  for (int i = 0; i < 3; ++i) forward(torch::rand(input_shape) * 2 - 1);
  model.eval();
}

double max_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// The exported graph's outputs are within 1e-4 (relative to the outputs' scale) of ours. Where our own float32
// result is further than that from the float64 one (a deep random network, or a random TPS grid, magnifies
// rounding), they must be as close to the float64 result as ours is, within a factor of 3.
void expect_as_exact_as_ours(const torch::Tensor& theirs, const torch::Tensor& ours, const torch::Tensor& exact) {
  const double scale = std::max(1.0, exact.abs().max().item<double>());
  const double our_error = max_difference(ours, exact);
  const double their_error = max_difference(theirs, exact);
  if (our_error <= 1e-5 * scale) {
    EXPECT_LE(max_difference(theirs, ours), 1e-4 * scale) << "outputs' scale " << scale;
  } else {
    EXPECT_LE(their_error, std::max(1e-4 * scale, 3.0 * our_error))
        << "float64 result's scale " << scale << "; our float32 result is " << our_error << " from it";
  }
}

using Stages = std::tuple<std::string, std::string, std::string, std::string>;

class RecognizerExport : public ::testing::TestWithParam<Stages> {};

TEST_P(RecognizerExport, RunsInOnnxruntimeLikeOurModel) {
  const auto& [transformation, extraction, sequence, prediction] = GetParam();
  ocr::OcrDemoOptions options;
  options.Transformation = transformation;
  options.FeatureExtraction = extraction;
  options.SequenceModeling = sequence;
  options.Prediction = prediction;
  options.output_channel = 32;
  options.hidden_size = 16;
  options.num_fiducial = 6;
  options.batch_max_length = 7;
  options.character = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
  const auto converter = ocr::make_converter(prediction, options.character);
  torch::manual_seed(2026);
  ocr::OcrModel model(ocr::model_options(options, converter->num_class()));
  ocr::initialize_like_original(*model);
  if (model->transformation) {  // off the identity, so the grid and GridSample are exercised
    torch::NoGradGuard no_grad;
    model->transformation->localization->localization_fc2->weight.normal_(0.0, 0.02);
  }
  LibTorchKernels libtorch;
  calibrate_batch_norms(*model, [&](const torch::Tensor& x) { model->contextual_features(x); }, {4, 1, 32, 100});

  testing::TempDir dir;
  const fs::path file = dir.path() / "recognizer.onnx";
  testing::write_bytes(file, recognizer_onnx(model, options));
  if (!std::string(kOnnxPython).empty()) {
    EXPECT_EQ(python_checker_complaint(file), "");
  }
  if (!onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed (scripts/setup.sh --reference)";

  torch::manual_seed(7);
  const auto images = torch::rand({3, 1, 32, 100}) * 2 - 1;
  torch::Tensor ours;
  {
    torch::NoGradGuard no_grad;
    ours = model->predict(images);
  }
  torch::Tensor exact;
  {
    torch::NoGradGuard no_grad;
    model->to(torch::kDouble);
    exact = model->predict(images.to(torch::kDouble));
    model->to(torch::kFloat);
  }
  const auto theirs = run_onnxruntime(file, images, dir.path() / "run");
  ASSERT_EQ(theirs.count("logits"), 1u);
  ASSERT_EQ(theirs.at("logits").sizes(), ours.sizes());
  expect_as_exact_as_ours(theirs.at("logits"), ours, exact);
  const auto our_ids = ours.argmax(2);
  EXPECT_TRUE(torch::equal(theirs.at("predicted_ids"), our_ids));
  EXPECT_EQ(converter->decode(theirs.at("predicted_ids")), converter->decode(our_ids));
}

INSTANTIATE_TEST_SUITE_P(AllStages, RecognizerExport,
                         ::testing::Combine(::testing::Values("None", "TPS"), ::testing::Values("VGG", "RCNN", "ResNet"),
                                            ::testing::Values("None", "BiLSTM"), ::testing::Values("CTC", "Attn")),
                         [](const ::testing::TestParamInfo<Stages>& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param) + "_" +
                                  std::get<2>(info.param) + "_" + std::get<3>(info.param);
                         });

TEST(RecognizerExport, MetadataTellsHowToPrepareAndDecode) {
  ocr::OcrDemoOptions options;
  options.output_channel = 32;
  options.hidden_size = 16;
  options.num_fiducial = 6;
  options.batch_max_length = 5;
  options.character = "0123AB";
  ocr::OcrModel model(ocr::model_options(options, 8));
  const std::string bytes = recognizer_onnx(model, options);
  // The metadata strings are stored verbatim in the protobuf.
  EXPECT_NE(bytes.find("TPS-ResNet-BiLSTM-Attn"), std::string::npos);
  EXPECT_NE(bytes.find(R"(["[GO]","[s]","0","1","2","3","A","B"])"), std::string::npos);
  EXPECT_NE(bytes.find("(x - 0.5) / 0.5"), std::string::npos);
  EXPECT_NE(bytes.find("cut before the first index 1 ([s])"), std::string::npos);
  EXPECT_NE(bytes.find("--code_check iso6346"), std::string::npos) << "the check outside the graph is described";
  // A character set that does not give the model's class count is refused.
  options.character = "0123";
  EXPECT_THROW(recognizer_onnx(model, options), c10::Error);
}

class ClassifierExport : public ::testing::TestWithParam<std::string> {};

TEST_P(ClassifierExport, RunsInOnnxruntimeLikeOurModel) {
  const std::string backbone = GetParam();
  torch::manual_seed(11);
  CargoClassifier model(CargoClassifierOptions{backbone, /*hidden=*/16, 0.25});
  LibTorchKernels libtorch;
  calibrate_batch_norms(*model, [&](const torch::Tensor& x) { model->forward(x); }, {4, 3, 64, 64});
  ClassifierSidecar sidecar;
  sidecar.backbone = backbone;
  sidecar.dense = 16;
  sidecar.image_size = 64;
  sidecar.normalization = "imagenet";
  sidecar.class_names = {"0", "1"};

  testing::TempDir dir;
  const fs::path file = dir.path() / "classifier.onnx";
  testing::write_bytes(file, classifier_onnx(model, sidecar));
  if (!std::string(kOnnxPython).empty()) {
    EXPECT_EQ(python_checker_complaint(file), "");
  }
  if (!onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed (scripts/setup.sh --reference)";

  for (const int64_t batch : {1, 3}) {  // the batch size is dynamic
    const auto images = torch::rand({batch, 3, 64, 64}) * 2 - 1;
    torch::Tensor ours, exact;
    {
      torch::NoGradGuard no_grad;
      ours = model->forward(images);
      model->to(torch::kDouble);
      exact = model->forward(images.to(torch::kDouble));
      model->to(torch::kFloat);
    }
    const auto theirs = run_onnxruntime(file, images, dir.path() / ("run" + std::to_string(batch)));
    ASSERT_EQ(theirs.at("logit").sizes(), ours.sizes());
    expect_as_exact_as_ours(theirs.at("logit"), ours, exact);
    expect_as_exact_as_ours(theirs.at("probability"), torch::sigmoid(ours), torch::sigmoid(exact));
  }
}

INSTANTIATE_TEST_SUITE_P(Backbones, ClassifierExport,
                         ::testing::Values("resnet18", "resnet152", "mobilenet_v2", "efficientnet_b0"));

// The shipped recognizer, exported by the app's library call, reads the sample's validation crops as
// CodeRecognizer (demo_ocr's path) does. CARGOVISION_EXPORT_TEST_PACKAGE=<stem> checks another packed model.
TEST(ShippedModelExport, ReadsTheSampleLikeDemoOcr) {
  const char* override_stem = std::getenv("CARGOVISION_EXPORT_TEST_PACKAGE");
  const std::string stem = override_stem != nullptr ? override_stem
                                                    : (fs::path(kSourceDir) / "data/models/codes_recognizer").string();
  if (!fs::exists(stem + ".pth")) GTEST_SKIP() << stem << ".pth is not in this checkout";
  if (!onnxruntime_available()) GTEST_SKIP() << "onnxruntime-node not installed (scripts/setup.sh --reference)";
  testing::TempDir dir;
  OnnxExportOptions o;
  o.config = stem + ".json";
  o.saved_model = stem + ".pth";
  o.output = (dir.path() / "codes.onnx").string();
  const OnnxExportSummary summary = export_onnx(o);
  EXPECT_GT(summary.bytes, 0u);

  const ocr::CodeRecognizer recognizer = ocr::CodeRecognizer::from_package(stem);
  const ocr::OcrDemoOptions& options = recognizer.options();
  std::vector<cv::Mat> crops;
  std::vector<fs::path> files;
  for (const auto& file : walk_folder(fs::path(kSourceDir) / "data/ocr/validation").files) {
    if (file.extension() == ".jpg" || file.extension() == ".png") files.push_back(file);
  }
  std::sort(files.begin(), files.end());
  // The input as the metadata describes it: grey as Pillow computes it (or RGB), resized, scaled to [-1, 1].
  std::vector<cv::Mat> inputs;
  for (const auto& path : files) {
    const cv::Mat rgb = read_rgb_image(path.string());
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    crops.push_back(bgr);
    inputs.push_back(options.rgb ? rgb : rgb_to_grey_pillow(rgb));
  }
  ASSERT_GE(crops.size(), 100u);
  const auto to_batch = [&](const std::vector<cv::Mat>& pictures) {
    auto batch = torch::empty({static_cast<long>(pictures.size()), options.rgb ? 3 : 1, options.imgH, options.imgW});
    for (std::size_t i = 0; i < pictures.size(); ++i) {
      ocr::align_into(pictures[i], {options.imgH, options.imgW, options.PAD}, batch[static_cast<long>(i)]);
    }
    return batch;
  };
  const auto images = to_batch(inputs);
  const auto converter = ocr::make_converter(options.Prediction, options.character);
  int runs = 0;
  // The exported graph as a reader: decoded as its metadata says, confidences from its logits.
  const auto read_exported = [&](const torch::Tensor& batch) {
    const auto outputs = run_onnxruntime(o.output, batch, dir.path() / ("run" + std::to_string(runs++)));
    ocr::Recognition recognition;
    recognition.logits = outputs.at("logits");
    const auto [max_probability, indices] = torch::softmax(recognition.logits, 2).max(2);
    EXPECT_TRUE(torch::equal(indices, outputs.at("predicted_ids")));
    recognition.predictions = converter->decode(indices);
    recognition.confidence = converter->confidence(max_probability, indices);
    return recognition;
  };
  ocr::Recognition exported = read_exported(images);

  // The graph alone reads as the model does without the container-number check...
  ocr::OcrDemoOptions unchecked = options;
  unchecked.code_check = "none";
  unchecked.reread_below = 0;
  const auto model_readings = ocr::CodeRecognizer(unchecked).read(crops);
  ASSERT_EQ(exported.predictions.size(), model_readings.size());
  for (std::size_t i = 0; i < model_readings.size(); ++i) {
    EXPECT_EQ(exported.predictions[i], model_readings[i].text) << "crop " << i << ", --code_check none";
  }
  // ...and with the check its metadata describes applied after it, as demo_ocr reads by default.
  const ocr::CropReader read_bands = [&](const std::vector<cv::Mat>& bands) { return read_exported(to_batch(bands)); };
  const ocr::CodeCheck check = ocr::parse_code_check(options.code_check);
  const bool ctc = options.Prediction == "CTC";
  ocr::apply_code_check(exported, check, options.character, ctc, inputs, read_bands);
  // ...and its uncertain crops read again as demo_ocr rereads them (--reread_below).
  ocr::reread_uncertain(exported, inputs, options.reread_below,
                        ocr::checked_reader(read_bands, check, options.character, ctc));
  const auto readings = recognizer.read(crops);
  for (std::size_t i = 0; i < readings.size(); ++i) {
    EXPECT_EQ(exported.predictions[i], readings[i].text) << "crop " << i << ", --code_check " << options.code_check
                                                          << " --reread_below " << options.reread_below;
  }
}

TEST(OnnxExportOptions, ChecksNameTheProblem) {
  const auto message = [](const OnnxExportOptions& o) {
    try {
      check_onnx_export_options(o);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  OnnxExportOptions o;
  o.output = "model.onnx";
  EXPECT_NE(message(o).find("give either a recognizer"), std::string::npos);
  o.checkpoint = "best.pt";
  o.config = "r.json";
  EXPECT_NE(message(o).find("give either a recognizer"), std::string::npos);
  o.checkpoint.clear();
  EXPECT_NE(message(o).find("needs both --config"), std::string::npos);
  o.saved_model = "r.pth";
  EXPECT_EQ(message(o), "");
  o.opset = 15;
  EXPECT_NE(message(o).find("--opset 15 is not supported"), std::string::npos);
  o.opset = 17;
  o.output.clear();
  EXPECT_NE(message(o).find("no --output"), std::string::npos);
}

TEST(OnnxExportOptions, MissingFilesAreNamed) {
  testing::TempDir dir;
  OnnxExportOptions o;
  o.config = (dir.path() / "absent.json").string();
  o.saved_model = (dir.path() / "absent.pth").string();
  o.output = (dir.path() / "out.onnx").string();
  try {
    export_onnx(o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.json: no such options file"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(o.output));
}

}  // namespace
}  // namespace cargovision
