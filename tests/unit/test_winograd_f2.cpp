// The small-batch Winograd F(2x2,3x3) (models/winograd_f2.h) against a naive loop in double, LibTorch, and its own
// weight layout written out by hand, at fixed seeds. Needs a CPU with AVX2 and FMA.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "cargovision/models/fast_conv2d.h"
#include "cargovision/models/fast_kernels.h"
#include "cargovision/models/winograd.h"
#include "cargovision/models/winograd_f2.h"
#include "naive_conv.h"
#include "test_support.h"

namespace cargovision::models {
namespace {

using reference::expect_close;
using reference::naive_conv3x3;

class WinogradF2 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!winograd_f2_available()) GTEST_SKIP() << "this CPU has no AVX2 and FMA";
  }
};

torch::Tensor convolve(const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias,
                       int64_t pad_h, int64_t pad_w) {
  c10::optional<torch::Tensor> optional_bias;
  if (bias.defined()) optional_bias = bias;
  return winograd_f2_conv2d_inference(input, winograd_f2_packed_weight(weight), weight.size(0), optional_bias, pad_h,
                                      pad_w);
}

TEST_F(WinogradF2, MatchesNaiveLoop) {
  torch::manual_seed(21);
  // Output channels that fill no panel of 16, one and a bit, several; tile counts that fill no block of 6, one,
  // several with a remainder; odd and even maps; every padding; maps smaller than a tile; more input channels than
  // one chunk of the matrix kernel (64), with a remainder.
  reference::expect_matches_naive_loop(
      {{1, 3, 5, 4, 4, 1, 1, true}, {2, 4, 17, 9, 13, 1, 1, false}, {3, 2, 3, 7, 6, 0, 0, true},
       {1, 2, 32, 5, 11, 2, 2, true}, {2, 5, 4, 3, 3, 1, 0, false}, {1, 1, 1, 1, 26, 1, 1, true},
       {1, 100, 20, 4, 10, 1, 1, true}, {1, 130, 16, 2, 2, 1, 2, false}},
      convolve);
}

// The recognizer's widest layer at batch 1 (26 tiles, 512 channels: 8 chunks, 32 panels) and a non-contiguous
// input, against LibTorch.
TEST_F(WinogradF2, MatchesLibTorchOnTheRecognizersLayers) {
  torch::manual_seed(22);
  const auto weight = torch::randn({512, 512, 3, 3}) * 0.02;
  const auto bias = torch::randn({512});
  const auto input = torch::randn({1, 512, 4, 26});
  torch::NoGradGuard no_grad;
  expect_close(convolve(input, weight, bias, 1, 1), torch::conv2d(input, weight, bias, 1, 1));
  const auto transposed = torch::randn({1, 128, 50, 16}).transpose(2, 3);
  const auto narrow_weight = torch::randn({128, 128, 3, 3}) * 0.05;
  expect_close(convolve(transposed, narrow_weight, {}, 1, 1), torch::conv2d(transposed, narrow_weight, {}, 1, 1));
}

// Each (point, output channel, input channel) entry of the packed weight is (G g G^T) at that point, written out
// here with G as a matrix; output channels past the last are zero.
TEST_F(WinogradF2, PackedWeightHoldsTheTransformInPanelsOf16) {
  torch::manual_seed(23);
  const auto weight = torch::randn({20, 3, 3, 3});
  const auto packed = winograd_f2_packed_weight(weight);
  ASSERT_EQ(packed.sizes(), (std::vector<int64_t>{16, 2, 3, 16}));
  const auto g = torch::tensor({1.f, 0.f, 0.f, .5f, .5f, .5f, .5f, -.5f, .5f, 0.f, 0.f, 1.f}).view({4, 3});
  for (const int64_t k : {0, 7, 15, 16, 19}) {
    for (int64_t c = 0; c < 3; ++c) {
      const auto expected = torch::matmul(torch::matmul(g, weight[k][c]), g.t()).flatten();  // 16 points
      for (int64_t p = 0; p < 16; ++p) {
        EXPECT_FLOAT_EQ(packed[p][k / 16][c][k % 16].item<float>(), expected[p].item<float>())
            << "point " << p << ", output channel " << k << ", input channel " << c;
      }
    }
  }
  EXPECT_EQ(packed.select(1, 1).narrow(2, 4, 12).abs().max().item<float>(), 0.f);
}

// Each output is computed whole by one thread, in the same order whatever the split: two threads in inference mode
// (as the apps run it) give exactly the one-thread values.
TEST_F(WinogradF2, InferenceModeOnTwoThreadsGivesTheSameValues) {
  torch::manual_seed(24);
  const auto weight = torch::randn({64, 96, 3, 3});
  const auto bias = torch::randn({64});
  const auto input = torch::randn({2, 96, 7, 12});
  torch::Tensor one_thread, two_threads;
  {
    testing::IntraOpThreads one(1);
    torch::NoGradGuard no_grad;
    one_thread = convolve(input, weight, bias, 1, 1);
  }
  {
    testing::IntraOpThreads two(2);
    c10::InferenceMode inference;
    two_threads = convolve(input, weight, bias, 1, 1);
  }
  EXPECT_TRUE(torch::equal(one_thread, two_threads));
}

TEST_F(WinogradF2, BadArgumentsAreNamed) {
  const auto input = torch::randn({1, 4, 6, 6});
  const auto packed = winograd_f2_packed_weight(torch::randn({3, 4, 3, 3}));
  const auto message = [](const auto& call) {
    try {
      call();
    } catch (const c10::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([&] { winograd_f2_packed_weight(torch::randn({3, 4, 5, 5})); })
                .find("winograd_f2_packed_weight: a [K, C, 3, 3] weight expected"),
            std::string::npos);
  EXPECT_NE(message([&] { winograd_f2_conv2d_inference(torch::randn({1, 5, 6, 6}), packed, 3, {}, 1, 1); })
                .find("a contiguous packed weight [16, 1, 5, 16] expected"),
            std::string::npos);
  EXPECT_NE(message([&] { winograd_f2_conv2d_inference(input, packed, 17, {}, 1, 1); }).find("[16, 2, 4, 16]"),
            std::string::npos);
  EXPECT_NE(message([&] { winograd_f2_conv2d_inference(input, packed, 3, {}, 3, 1); }).find("padding 0, 1 or 2"),
            std::string::npos);
  EXPECT_NE(message([&] { winograd_f2_conv2d_inference(input, packed, 3, torch::randn({4}), 1, 1); })
                .find("a bias of 3 values"),
            std::string::npos);
  EXPECT_NE(message([&] { winograd_f2_conv2d_inference(torch::randn({1, 4, 1, 6}), packed, 3, {}, 0, 0); })
                .find("smaller than the 3x3 kernel"),
            std::string::npos);
}

TEST_F(WinogradF2, PaysWhereTheWeightsAreTheWork) {
  EXPECT_TRUE(winograd_f2_pays(1, 512, 512, 4, 26));     // the recognizer's widest layers at batch 1: 26 tiles
  EXPECT_TRUE(winograd_f2_pays(1, 256, 512, 4, 26));     // and the first of them
  EXPECT_TRUE(winograd_f2_pays(1, 128, 128, 16, 50));    // its 128-channel layers: 200 tiles
  EXPECT_FALSE(winograd_f2_pays(1, 512, 512, 2, 27));    // 14 tiles: blocks of 6 part-empty
  EXPECT_FALSE(winograd_f2_pays(1, 64, 64, 32, 100));    // too few channels
  EXPECT_FALSE(winograd_f2_pays(2, 128, 128, 16, 50));   // 400 tiles of 128 channels: F(4x4) or direct
  EXPECT_TRUE(winograd_f2_pays(2, 512, 512, 2, 27));     // 28 tiles
  EXPECT_FALSE(winograd_f2_pays(8, 512, 512, 4, 26));    // 208 tiles of 512
  EXPECT_TRUE(winograd_f2_pays(1, 512, 512, 7, 7));      // ResNet's last stage at batch 1: 16 tiles
}

// Which kernel FastConv2d picks at inference on a CPU without oneDNN's Winograd (ctest's kernels.avx2 runs this
// capped at AVX2 on AVX-512 machines): this one at batch 1 on wide layers, with its packed weight kept per scope;
// the F(4x4) at larger batches.
TEST_F(WinogradF2, FastConv2dPicksItAtBatchOneWhereOneDnnHasNoWinograd) {
  if (winograd_kernels_available()) GTEST_SKIP() << "this CPU has oneDNN's Winograd kernels";
  torch::manual_seed(25);
  FastConv2d conv(torch::nn::Conv2dOptions(256, 256, 3).padding(1));
  conv->eval();
  const auto input = torch::randn({1, 256, 8, 25});
  const auto batch = torch::randn({8, 256, 8, 25});
  torch::NoGradGuard no_grad;
  PackedWeightsScope scope;
  const auto before = packed_weight_count();
  const auto output = conv->forward(input);
  EXPECT_EQ(packed_weight_count(), before + 1);
  EXPECT_TRUE(torch::equal(output, winograd_f2_conv2d_inference(input, winograd_f2_packed_weight(conv->weight), 256,
                                                                conv->bias, 1, 1)));
  expect_close(output, torch::conv2d(input, conv->weight, conv->bias, 1, 1));
  EXPECT_TRUE(torch::equal(conv->forward(input), output));
  EXPECT_EQ(packed_weight_count(), before + 1) << "the packed weight is made once per scope";
  const auto batched = conv->forward(batch);
  EXPECT_TRUE(torch::equal(batched, winograd_conv2d_inference(batch, winograd_transformed_weight(conv->weight),
                                                              conv->bias, 1, 1)));
  set_fast_kernels_enabled(false);
  const auto plain = conv->forward(input);
  set_fast_kernels_enabled(true);
  EXPECT_TRUE(torch::equal(plain, torch::conv2d(input, conv->weight, conv->bias, 1, 1)));
}

}  // namespace
}  // namespace cargovision::models
