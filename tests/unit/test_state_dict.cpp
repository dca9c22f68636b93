#include <gtest/gtest.h>

#include "cargovision/core/error.h"
#include "cargovision/io/state_dict.h"
#include "test_support.h"

namespace cargovision {
namespace {

struct TinyImpl : torch::nn::Module {
  TinyImpl(int64_t width = 3) {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(2, width, 3)));
    bn = register_module("bn", torch::nn::BatchNorm2d(width));
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(Tiny);

TEST(StateDict, PyTorchOrderAndNames) {
  Tiny tiny;
  std::vector<std::string> keys;
  for (const auto& item : module_state_dict(*tiny)) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean",
                                            "bn.running_var", "bn.num_batches_tracked"}));
}

TEST(StateDict, FileRoundTripKeepsValuesAndDtypes) {
  testing::TempDir dir;
  Tiny source;
  {
    torch::NoGradGuard no_grad;
    source->bn->running_mean.fill_(0.25);
    source->bn->num_batches_tracked.fill_(7);
  }
  const auto path = (dir.path() / "tiny.pt").string();
  save_state_dict(module_state_dict(*source), path);
  const StateDict loaded = load_state_dict_file(path);
  ASSERT_EQ(loaded.size(), 7u);
  EXPECT_TRUE(torch::equal(loaded["conv.weight"], source->conv->weight));
  EXPECT_EQ(loaded["bn.num_batches_tracked"].scalar_type(), torch::kLong);
  Tiny target;
  const LoadReport report = load_into_module(*target, loaded, path);
  EXPECT_EQ(report.loaded.size(), 7u);
  EXPECT_TRUE(torch::equal(target->conv->weight, source->conv->weight));
  EXPECT_EQ(target->bn->num_batches_tracked.item<int64_t>(), 7);
}

TEST(StateDict, StrictErrorsNameTheFirstProblem) {
  Tiny wide(4);
  StateDict state = module_state_dict(*Tiny(3));
  try {
    load_into_module(*wide, state, "model.pt");
    FAIL() << "expected a mismatch";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.pt: checkpoint does not match the model: shape mismatch at conv.weight: "
                                         "checkpoint [3, 2, 3, 3] vs model [4, 2, 3, 3]"),
              std::string::npos)
        << e.what();
  }
  StateDict missing = module_state_dict(*Tiny(3));
  missing.erase("conv.bias");
  Tiny same(3);
  try {
    load_into_module(*same, missing, "m.pt");
    FAIL() << "expected a missing key";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing key 'conv.bias'"), std::string::npos) << e.what();
  }
  StateDict extra = module_state_dict(*Tiny(3));
  extra.insert("head.weight", torch::zeros({1}));
  EXPECT_THROW(load_into_module(*same, extra, "m.pt"), Error);
}

TEST(StateDict, OldCheckpointsWithoutBatchCountersLoad) {
  StateDict state = module_state_dict(*Tiny(3));
  state.erase("bn.num_batches_tracked");
  Tiny target(3);
  EXPECT_NO_THROW(load_into_module(*target, state, "old.pth"));
}

TEST(StateDict, NonStrictReportsEverything) {
  StateDict state = module_state_dict(*Tiny(4));
  state.insert("extra", torch::zeros({2}));
  Tiny target(3);
  LoadPolicy policy;
  policy.strict = false;
  const LoadReport report = load_into_module(*target, state, "x", policy);
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"extra"});
  EXPECT_EQ(report.mismatched.size(), 6u);  // all but num_batches_tracked (a scalar) differ in shape
  EXPECT_EQ(report.loaded, std::vector<std::string>{"bn.num_batches_tracked"});
}

TEST(StateDict, UnreadableFilesAreReported) {
  testing::TempDir dir;
  testing::write_bytes(dir.path() / "junk.pt", "definitely not a zip");
  try {
    load_state_dict_file((dir.path() / "junk.pt").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("junk.pt: not a PyTorch file (neither a zip archive nor the legacy format"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_state_dict_file((dir.path() / "absent.pt").string()), Error);
}

}  // namespace
}  // namespace cargovision
