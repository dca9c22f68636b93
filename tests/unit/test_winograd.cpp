// The project's own Winograd F(4x4,3x3) convolution (models/winograd.h), forward and backward, against a naive
// loop in double and LibTorch's autograd at fixed seeds.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "cargovision/models/fast_conv2d.h"
#include "cargovision/models/fast_kernels.h"
#include "cargovision/models/winograd.h"
#include "naive_conv.h"
#include "test_support.h"

namespace cargovision::models {
namespace {

using reference::expect_close;
using reference::naive_conv3x3;

TEST(Winograd, ForwardMatchesNaiveLoop) {
  torch::manual_seed(11);
  // Sizes that are and are not multiples of the 4x4 tile, every padding, maps smaller than one tile.
  reference::expect_matches_naive_loop(
      {{2, 3, 5, 8, 8, 1, 1, true}, {1, 4, 2, 9, 13, 1, 1, false}, {3, 2, 3, 7, 6, 0, 0, true},
       {1, 2, 2, 5, 11, 2, 2, true}, {2, 5, 4, 3, 3, 1, 0, false}, {1, 1, 1, 1, 26, 1, 1, true}},
      [](const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias, int64_t pad_h,
         int64_t pad_w) {
        c10::optional<torch::Tensor> optional_bias;
        if (bias.defined()) optional_bias = bias;
        return winograd_conv2d(input, weight, optional_bias, pad_h, pad_w);
      });
}

TEST(Winograd, ForwardMatchesLibTorchOnWideLayers) {
  torch::manual_seed(12);
  const auto input = torch::randn({2, 128, 8, 25});
  const auto weight = torch::randn({64, 128, 3, 3}) * 0.05;
  torch::NoGradGuard no_grad;
  expect_close(winograd_conv2d(input, weight, {}, 1, 1), torch::conv2d(input, weight, {}, 1, 1));
}

// Inference with the weight transformed once: the same values as the differentiable path and the naive loop.
TEST(Winograd, InferenceWithATransformedWeightMatchesTheNaiveLoop) {
  torch::manual_seed(17);
  const auto input = torch::randn({3, 6, 9, 14});
  const auto weight = torch::randn({5, 6, 3, 3});
  const auto bias = torch::randn({5});
  torch::NoGradGuard no_grad;
  const auto transformed = winograd_transformed_weight(weight);
  EXPECT_EQ(transformed.sizes(), (std::vector<int64_t>{36, 5, 6}));
  for (const int64_t pad : {0, 1, 2}) {
    SCOPED_TRACE(pad);
    const auto expected = naive_conv3x3(input, weight, bias, pad, pad);
    expect_close(winograd_conv2d_inference(input, transformed, bias, pad, pad), expected);
    EXPECT_TRUE(torch::equal(winograd_conv2d_inference(input, transformed, bias, pad, pad),
                             winograd_conv2d(input, weight, bias, pad, pad)));
  }
  EXPECT_THROW(winograd_conv2d_inference(torch::randn({1, 4, 8, 8}), transformed, {}, 1, 1), c10::Error);
  EXPECT_THROW(winograd_transformed_weight(torch::randn({5, 6, 5, 5})), c10::Error);
}

// As the apps run it: in inference mode on two threads, where the products are written from LibTorch's worker
// threads into an inference tensor (the workers must run in the caller's mode) and the transforms are split.
TEST(Winograd, InferenceModeOnTwoThreadsGivesTheSameValues) {
  torch::manual_seed(19);
  const auto input = torch::randn({4, 8, 6, 11});
  const auto weight = torch::randn({7, 8, 3, 3});
  const auto bias = torch::randn({7});
  const auto expected = naive_conv3x3(input, weight, bias, 1, 1);
  testing::IntraOpThreads two(2);
  torch::InferenceMode inference;
  const auto transformed = winograd_transformed_weight(weight);
  expect_close(winograd_conv2d_inference(input, transformed, bias, 1, 1), expected);
  expect_close(winograd_conv2d(input, weight, bias, 1, 1), expected);
}

TEST(Winograd, NonContiguousInputIsReadAsItsValues) {
  torch::manual_seed(13);
  const auto input = torch::randn({3, 6, 10, 4}).permute({0, 1, 3, 2});  // [3, 6, 4, 10], strided
  const auto weight = torch::randn({4, 6, 3, 3});
  torch::NoGradGuard no_grad;
  expect_close(winograd_conv2d(input, weight, {}, 1, 1), torch::conv2d(input, weight, {}, 1, 1));
}

TEST(Winograd, GradientsMatchLibTorch) {
  torch::manual_seed(14);
  for (const int64_t pad : {0, 1}) {
    SCOPED_TRACE(::testing::Message() << "padding " << pad);
    const auto input = torch::randn({2, 6, 9, 10}).requires_grad_(true);
    const auto weight = torch::randn({5, 6, 3, 3}).requires_grad_(true);
    const auto bias = torch::randn({5}).requires_grad_(true);
    const auto output = winograd_conv2d(input, weight, bias, pad, pad);
    ASSERT_NE(output.grad_fn(), nullptr);
    EXPECT_NE(output.grad_fn()->name().find("WinogradF4x3"), std::string::npos) << output.grad_fn()->name();
    const auto upstream = torch::randn(output.sizes());
    const auto ours = torch::autograd::grad({(output * upstream).sum()}, {input, weight, bias});
    const auto reference = torch::conv2d(input, weight, bias, 1, pad);
    expect_close(output, reference);
    const auto theirs = torch::autograd::grad({(reference * upstream).sum()}, {input, weight, bias});
    expect_close(ours[0], theirs[0]);
    expect_close(ours[1], theirs[1]);
    expect_close(ours[2], theirs[2]);
  }
}

TEST(Winograd, OnlyTheWeightNeedsAGradient) {
  torch::manual_seed(15);
  const auto input = torch::randn({1, 4, 6, 6});
  const auto weight = torch::randn({3, 4, 3, 3}).requires_grad_(true);
  const auto ours = torch::autograd::grad({winograd_conv2d(input, weight, {}, 1, 1).pow(2).sum()}, {weight})[0];
  const auto theirs = torch::autograd::grad({torch::conv2d(input, weight, {}, 1, 1).pow(2).sum()}, {weight})[0];
  expect_close(ours, theirs);
}

TEST(Winograd, BadArgumentsAreNamed) {
  const auto input = torch::randn({1, 4, 6, 6});
  EXPECT_THROW(
      {
        try {
          winograd_conv2d(input, torch::randn({3, 4, 5, 5}), {}, 1, 1);
        } catch (const c10::Error& e) {
          EXPECT_NE(std::string(e.what()).find("winograd_conv2d: 3x3 kernels only"), std::string::npos) << e.what();
          throw;
        }
      },
      c10::Error);
  EXPECT_THROW(winograd_conv2d(input, torch::randn({3, 5, 3, 3}), {}, 1, 1), c10::Error);
  EXPECT_THROW(winograd_conv2d(input, torch::randn({3, 4, 3, 3}), {}, 3, 3), c10::Error);
  EXPECT_THROW(winograd_conv2d(input.to(torch::kDouble), torch::randn({3, 4, 3, 3}).to(torch::kDouble), {}, 1, 1),
               c10::Error);
}

TEST(Winograd, PaysOnlyWithEnoughTilesAndChannels) {
  EXPECT_FALSE(winograd_conv2d_pays(1, 512, 512, 4, 26));   // the recognizer at batch 1: 7 tiles
  EXPECT_FALSE(winograd_conv2d_pays(4, 512, 512, 4, 26));   // at batch 4: 28
  EXPECT_TRUE(winograd_conv2d_pays(5, 512, 512, 4, 26));    // at batch 5: 35
  EXPECT_TRUE(winograd_conv2d_pays(64, 512, 512, 4, 26));   // and at batch 64: 448
  EXPECT_TRUE(winograd_conv2d_pays(1, 128, 128, 16, 50));   // its 128-channel layers at batch 1: 52 tiles
  EXPECT_FALSE(winograd_conv2d_pays(64, 64, 512, 4, 26));   // too few channels: the transforms dominate
  EXPECT_FALSE(winograd_conv2d_pays(32, 64, 64, 56, 56));   // ResNet's first stage, however large the batch
  EXPECT_FALSE(winograd_conv2d_pays(1, 256, 256, 14, 14));  // its third stage at batch 1: 16 tiles
  EXPECT_TRUE(winograd_conv2d_pays(2, 256, 256, 14, 14));   // at batch 2: 32
}

// Which kernel FastConv2d picks on a CPU without oneDNN's Winograd (ctest's kernels.avx2 runs this capped at
// AVX2 on AVX-512 machines).
TEST(Winograd, FastConv2dUsesItWhereOneDnnHasNoWinograd) {
  if (winograd_kernels_available()) GTEST_SKIP() << "this CPU has oneDNN's Winograd kernels";
  torch::manual_seed(16);
  FastConv2d conv(torch::nn::Conv2dOptions(128, 128, 3).padding(1));
  const auto input = torch::randn({32, 128, 8, 25}).requires_grad_(true);  // 448 tiles
  const auto output = conv->forward(input);
  ASSERT_NE(output.grad_fn(), nullptr);
  EXPECT_NE(output.grad_fn()->name().find("WinogradF4x3"), std::string::npos) << output.grad_fn()->name();
  expect_close(output, torch::conv2d(input, conv->weight, conv->bias, 1, 1));
  const auto small = conv->forward(torch::randn({1, 128, 4, 10}));  // 3 tiles: LibTorch's
  ASSERT_NE(small.grad_fn(), nullptr);
  EXPECT_EQ(small.grad_fn()->name().find("WinogradF4x3"), std::string::npos) << small.grad_fn()->name();
  set_fast_kernels_enabled(false);
  const auto plain = conv->forward(input);
  set_fast_kernels_enabled(true);
  EXPECT_EQ(plain.grad_fn()->name().find("WinogradF4x3"), std::string::npos) << plain.grad_fn()->name();

  // At inference in a scope the transformed weight is made once and kept, and refreshed when the weight changes.
  torch::NoGradGuard no_grad;
  const auto frozen = input.detach();
  PackedWeightsScope scope;
  const auto before = packed_weight_count();
  const auto first = conv->forward(frozen);
  EXPECT_EQ(packed_weight_count(), before + 1);
  EXPECT_TRUE(torch::equal(conv->forward(frozen), first));
  EXPECT_EQ(packed_weight_count(), before + 1);
  expect_close(first, torch::conv2d(frozen, conv->weight, conv->bias, 1, 1));
  conv->weight.mul_(2);
  expect_close(conv->forward(frozen), torch::conv2d(frozen, conv->weight, conv->bias, 1, 1));
  EXPECT_EQ(packed_weight_count(), before + 1) << "the stale copy must be replaced, not kept beside";
}

}  // namespace
}  // namespace cargovision::models
