#include <gtest/gtest.h>

#include <fstream>

#include "cargovision/classify/checkpoint.h"
#include "cargovision/models/backbone.h"
#include "test_config.h"
#include "test_support.h"

namespace cargovision {
namespace {

// Runs the reference script once for the whole suite; skipped where python3-torchvision is absent.
class TorchvisionParity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (std::string(kReferencePython).empty()) return;
    dir_ = new testing::TempDir();
    const std::string command = std::string(kReferencePython) + " " + kSourceDir +
                                "/tests/python/torchvision_reference.py " + dir_->str();
    generated_ = std::system(command.c_str()) == 0;
  }
  static void TearDownTestSuite() { delete dir_; }
  void SetUp() override {
    if (std::string(kReferencePython).empty()) GTEST_SKIP() << "python3-torchvision not installed";
    ASSERT_TRUE(generated_) << "tests/python/torchvision_reference.py failed";
  }
  static testing::TempDir* dir_;
  static bool generated_;
};
testing::TempDir* TorchvisionParity::dir_ = nullptr;
bool TorchvisionParity::generated_ = false;

TEST_F(TorchvisionParity, EveryKeyAndShapeMatches) {
  for (const auto& name : models::backbone_names()) {
    auto backbone = models::make_backbone(name, 1000);
    const StateDict ours = module_state_dict(*backbone.pointer);
    std::ifstream tsv(dir_->path() / (name + "_keys.tsv"));
    std::string line;
    size_t index = 0;
    while (std::getline(tsv, line)) {
      const auto tab = line.find('\t');
      const std::string key = line.substr(0, tab);
      ASSERT_LT(index, ours.size()) << name << ": torchvision has more keys, next " << key;
      EXPECT_EQ(ours[index].key(), key) << name << " key #" << index;
      std::string shape;
      for (int64_t d = 0; d < ours[index].value().dim(); ++d) shape += (d ? "x" : "") + std::to_string(ours[index].value().size(d));
      EXPECT_EQ(shape, line.substr(tab + 1)) << name << " " << key;
      ++index;
    }
    EXPECT_EQ(index, ours.size()) << name;
  }
}

TEST_F(TorchvisionParity, OutputsMatchWithin1e4) {
  for (const std::string name : {"resnet18", "mobilenet_v2", "efficientnet_b0"}) {
    auto backbone = models::make_backbone(name, 1000);
    load_into_module(*backbone.pointer, load_state_dict_file((dir_->path() / (name + ".pt")).string()), name);
    backbone.pointer->eval();
    const StateDict io = load_state_dict_file((dir_->path() / (name + "_io.pt")).string());
    torch::NoGradGuard no_grad;
    const auto output = backbone.module.forward(io["input"]);
    const double difference = (output - io["output"]).abs().max().item<double>();
    EXPECT_LT(difference, 1e-4) << name;
  }
}

TEST_F(TorchvisionParity, ClassifierLoadsTorchvisionWeightsIgnoringFc) {
  CargoClassifier model(CargoClassifierOptions{"resnet18", 16, 0.25});
  const auto report = load_backbone_weights(*model, (dir_->path() / "resnet18.pt").string());
  EXPECT_EQ(report.loaded.size(), 120u);  // every resnet18 tensor but fc.weight and fc.bias
  const StateDict reference = load_state_dict_file((dir_->path() / "resnet18.pt").string());
  EXPECT_TRUE(torch::equal(module_state_dict(model->backbone())["layer2.0.downsample.1.running_var"],
                           reference["layer2.0.downsample.1.running_var"]));
}

}  // namespace
}  // namespace cargovision
