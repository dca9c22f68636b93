#include <gtest/gtest.h>

#include "cargovision/classify/checkpoint.h"
#include "cargovision/classify/model.h"
#include "cargovision/core/error.h"
#include "cargovision/io/json_file.h"
#include "cargovision/models/backbone.h"
#include "test_support.h"

namespace cargovision {
namespace {

int64_t parameter_count(torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters()) total += p.numel();
  return total;
}

bool has_key(torch::nn::Module& module, const std::string& key, std::vector<int64_t> shape) {
  const auto state = module_state_dict(module);
  const auto* tensor = state.find(key);
  return tensor != nullptr && tensor->sizes() == torch::IntArrayRef(shape);
}

TEST(Backbones, ParameterCountsMatchTorchvision) {
  const std::vector<std::pair<std::string, int64_t>> expected = {{"resnet18", 11689512},
                                                                 {"resnet50", 25557032},
                                                                 {"resnet152", 60192808},
                                                                 {"mobilenet_v2", 3504872},
                                                                 {"efficientnet_b0", 5288548}};
  for (const auto& [name, count] : expected) {
    auto backbone = models::make_backbone(name, 1000);
    EXPECT_EQ(parameter_count(*backbone.pointer), count) << name;
  }
}

TEST(Backbones, TorchvisionKeyNames) {
  auto resnet = models::make_backbone("resnet152", 1000);
  EXPECT_TRUE(has_key(*resnet.pointer, "layer3.35.conv2.weight", {256, 256, 3, 3}));
  EXPECT_TRUE(has_key(*resnet.pointer, "layer4.0.downsample.1.running_var", {2048}));
  EXPECT_TRUE(has_key(*resnet.pointer, "fc.weight", {1000, 2048}));
  auto mobile = models::make_backbone("mobilenet_v2", 1000);
  EXPECT_TRUE(has_key(*mobile.pointer, "features.1.conv.0.0.weight", {32, 1, 3, 3}));
  EXPECT_TRUE(has_key(*mobile.pointer, "features.2.conv.3.bias", {24}));
  EXPECT_TRUE(has_key(*mobile.pointer, "classifier.1.weight", {1000, 1280}));
  auto efficient = models::make_backbone("efficientnet_b0", 1000);
  EXPECT_TRUE(has_key(*efficient.pointer, "features.1.0.block.1.fc1.weight", {8, 32, 1, 1}));
  EXPECT_TRUE(has_key(*efficient.pointer, "features.2.0.block.3.0.weight", {24, 96, 1, 1}));
  EXPECT_TRUE(has_key(*efficient.pointer, "features.8.1.num_batches_tracked", {}));
  EXPECT_THROW(models::make_backbone("resnet19"), Error);
  EXPECT_THROW(models::make_backbone("vgg16"), Error);
}

TEST(Backbones, FeatureMapShapes) {
  torch::NoGradGuard no_grad;
  const auto input = torch::randn({2, 3, 64, 64});
  for (const auto& [name, channels] : std::vector<std::pair<std::string, int64_t>>{
           {"resnet18", 512}, {"resnet50", 2048}, {"mobilenet_v2", 1280}, {"efficientnet_b0", 1280}}) {
    auto backbone = models::make_backbone(name);
    backbone.pointer->eval();
    const auto features = backbone.module.forward(input);
    EXPECT_EQ(features.sizes(), torch::IntArrayRef({2, channels, 2, 2})) << name;
    EXPECT_EQ(backbone.feature_channels, channels);
  }
}

TEST(Classifier, HeadShapesAndKeys) {
  CargoClassifier model(CargoClassifierOptions{"resnet18", 16, 0.25});
  EXPECT_TRUE(has_key(*model, "head.hidden.weight", {16, 512}));
  EXPECT_TRUE(has_key(*model, "head.output.weight", {1, 16}));
  EXPECT_TRUE(torch::all(model->head->output->bias == 0).item<bool>());  // Keras: zero bias
  const double limit = std::sqrt(6.0 / (512 + 16));                      // Glorot uniform
  EXPECT_LE(model->head->hidden->weight.abs().max().item<double>(), limit);
  model->eval();
  EXPECT_EQ(model->forward(torch::randn({3, 3, 64, 64})).sizes(), torch::IntArrayRef({3}));
  CargoClassifier plain(CargoClassifierOptions{"resnet18", 0, 0.25});
  EXPECT_TRUE(has_key(*plain, "head.output.weight", {1, 512}));
}

TEST(Classifier, FrozenBackboneStaysInEvalMode) {
  CargoClassifier model(CargoClassifierOptions{"resnet18", 0, 0.25});
  model->set_backbone_frozen(true);
  model->train();
  EXPECT_FALSE(model->backbone().is_training());
  EXPECT_TRUE(model->head->is_training());
  for (const auto& p : model->backbone().parameters()) ASSERT_FALSE(p.requires_grad());
  const auto logits = model->forward(torch::randn({2, 3, 64, 64}));
  logits.sum().backward();
  EXPECT_TRUE(model->head->output->weight.grad().defined());
  model->set_backbone_frozen(false);
  model->train();
  EXPECT_TRUE(model->backbone().is_training());
}

TEST(Checkpoint, FileKeysAreTorchvisionsAndRoundTrip) {
  testing::TempDir dir;
  torch::manual_seed(3);
  CargoClassifier model(CargoClassifierOptions{"resnet18", 16, 0.25});
  model->eval();
  ClassifierSidecar sidecar;
  sidecar.backbone = "resnet18";
  sidecar.dense = 16;
  sidecar.image_size = 64;
  sidecar.class_names = {"0", "1"};
  const auto path = (dir.path() / "best.pt").string();
  save_classifier_checkpoint(*model, sidecar, path);
  const StateDict file = load_state_dict_file(path);
  EXPECT_NE(file.find("conv1.weight"), nullptr);
  EXPECT_NE(file.find("layer4.1.bn2.running_var"), nullptr);
  EXPECT_NE(file.find("head.hidden.bias"), nullptr);
  EXPECT_EQ(file.find("backbone.conv1.weight"), nullptr);
  auto loaded = load_classifier_checkpoint(path);
  const auto input = torch::randn({2, 3, 64, 64});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(loaded.model->forward(input), model->forward(input)));
  EXPECT_EQ(loaded.sidecar.image_size, 64);
}

// A headless ResNet18 classifier saved at `path` with its sidecar.
CargoClassifier save_plain_resnet18(const std::string& path) {
  CargoClassifier model(CargoClassifierOptions{"resnet18", 0, 0.25});
  ClassifierSidecar sidecar;
  sidecar.backbone = "resnet18";
  sidecar.class_names = {"0", "1"};
  save_classifier_checkpoint(*model, sidecar, path);
  return model;
}

TEST(Checkpoint, WeightsReplacedWithoutTheirSidecarAreRefused) {
  testing::TempDir dir;
  const auto path = (dir.path() / "best.pt").string();
  CargoClassifier model = save_plain_resnet18(path);
  StateDict newer = classifier_file_state(*model);
  newer[newer.keys().front()] = newer[newer.keys().front()].detach() + 1.0;
  save_state_dict(newer, path);  // the crash came before best.json was replaced
  try {
    load_classifier_checkpoint(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("best.json: describes another version of " + path), std::string::npos)
        << e.what();
  }
}

TEST(Checkpoint, AnotherBackboneNamesTheMismatch) {
  testing::TempDir dir;
  const auto path = (dir.path() / "m.pt").string();
  save_plain_resnet18(path);
  auto json = read_json_file(sidecar_path(path));
  json["backbone"] = "resnet50";
  write_json_file(sidecar_path(path), json);
  try {
    load_classifier_checkpoint(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("shape mismatch at layer1.0.conv1.weight: checkpoint [64, 64, 3, 3] vs model "
                                         "[64, 64, 1, 1]"),
              std::string::npos)
        << e.what();
  }
  std::filesystem::remove(sidecar_path(path));
  try {
    load_classifier_checkpoint(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("m.json is missing"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cargovision
