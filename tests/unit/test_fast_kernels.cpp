// The oneDNN kernels behind FastConv2d, the blocked ResNet and the recognizer's LSTMs, each against LibTorch and
// a naive loop at a fixed seed, plus the `--kernels` switch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cargovision/core/error.h"
#include "cargovision/models/blocked_network.h"
#include "cargovision/models/conv_batch_norm.h"
#include "cargovision/models/fast_conv2d.h"
#include "cargovision/models/fast_lstm.h"
#include "cargovision/models/resnet.h"
#include "naive_conv.h"

namespace cargovision::models {
namespace {

// Restores the process-wide switch whatever a test does.
class WinogradSwitch {
 public:
  explicit WinogradSwitch(bool enabled) : previous_(fast_kernels_enabled()) { set_fast_kernels_enabled(enabled); }
  ~WinogradSwitch() { set_fast_kernels_enabled(previous_); }

 private:
  bool previous_;
};

FastConv2d make(int64_t in, int64_t out, int64_t padding, bool bias, int64_t stride = 1, int64_t kernel = 3) {
  return FastConv2d(torch::nn::Conv2dOptions(in, out, kernel).padding(padding).stride(stride).bias(bias));
}

using reference::expect_close;
using reference::naive_conv3x3;

class FastKernelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fast_kernels_available()) GTEST_SKIP() << "no oneDNN kernels in this build or on this CPU";
    torch::manual_seed(7);
  }
};
class FastConv2dTest : public FastKernelsTest {};
class FastLstmTest : public FastKernelsTest {};

// Winograd runs outside a packed-weights scope and in training; tests of that need a CPU that has it (AVX-512).
class WinogradTest : public FastKernelsTest {
 protected:
  void SetUp() override {
    FastKernelsTest::SetUp();
    if (!IsSkipped() && !winograd_kernels_available()) GTEST_SKIP() << "no oneDNN Winograd kernel on this CPU";
  }
};

// The other CPUs (AVX2 and older: run with ONEDNN_MAX_CPU_ISA=AVX2 on an AVX-512 machine, as ctest's
// kernels.avx2 does).
class DirectOnlyTest : public FastKernelsTest {
 protected:
  void SetUp() override {
    FastKernelsTest::SetUp();
    if (!IsSkipped() && winograd_kernels_available()) GTEST_SKIP() << "this CPU has Winograd kernels";
  }
};

TEST_F(WinogradTest, MatchesNaiveLoop) {
  auto conv = make(16, 16, 1, true);
  const auto input = torch::randn({2, 16, 5, 7});
  torch::NoGradGuard no_grad;
  const auto output = onednn_conv2d(*conv, input);
  ASSERT_TRUE(output.defined());
  expect_close(output, naive_conv3x3(input, conv->weight, conv->bias));
}

TEST_F(WinogradTest, ForwardMatchesLibTorchAcrossShapes) {
  struct Case {
    int64_t batch, in, out, height, width, padding;
    bool bias;
  };
  for (const Case c : {Case{1, 64, 64, 16, 50, 1, false}, Case{3, 32, 48, 9, 13, 1, true},
                       Case{5, 128, 64, 4, 26, 1, false}, Case{2, 16, 32, 8, 8, 0, true}}) {
    SCOPED_TRACE(::testing::Message() << "batch " << c.batch << " " << c.in << "->" << c.out << " " << c.height << "x"
                                    << c.width << " pad " << c.padding);
    auto conv = make(c.in, c.out, c.padding, c.bias);
    const auto input = torch::randn({c.batch, c.in, c.height, c.width});
    torch::NoGradGuard no_grad;
    const auto output = onednn_conv2d(*conv, input);
    ASSERT_TRUE(output.defined());
    const auto expected = torch::conv2d(input, conv->weight, conv->bias, 1, c.padding);
    expect_close(output, expected);
    expect_close(conv->forward(input), expected);
  }
}

TEST_F(WinogradTest, BackwardMatchesLibTorch) {
  for (const bool bias : {false, true}) {
    SCOPED_TRACE(bias ? "with bias" : "without bias");
    auto conv = make(32, 48, 1, bias);
    const auto input = torch::randn({4, 32, 10, 12}).requires_grad_(true);
    const auto upstream = torch::randn({4, 48, 10, 12});

    const auto output = conv->forward(input);
    ASSERT_NE(output.grad_fn(), nullptr);
    EXPECT_NE(output.grad_fn()->name().find("WinogradConvolution"), std::string::npos) << output.grad_fn()->name();
    (output * upstream).sum().backward();
    const auto grad_input = input.grad().clone(), grad_weight = conv->weight.grad().clone();
    const auto grad_bias = bias ? conv->bias.grad().clone() : torch::Tensor();

    input.mutable_grad() = torch::Tensor();
    conv->zero_grad();
    (torch::conv2d(input, conv->weight, conv->bias, 1, 1) * upstream).sum().backward();
    expect_close(output, torch::conv2d(input, conv->weight, conv->bias, 1, 1));
    expect_close(grad_input, input.grad());
    expect_close(grad_weight, conv->weight.grad());
    if (bias) expect_close(grad_bias, conv->bias.grad());
  }
}

TEST_F(WinogradTest, FrozenInputStillGetsWeightGradients) {
  auto conv = make(16, 16, 1, false);
  const auto input = torch::randn({2, 16, 6, 6});  // no requires_grad: only the weight needs one
  (conv->forward(input) * 2).sum().backward();
  const auto expected = torch::autograd::grad({(torch::conv2d(input, conv->weight, {}, 1, 1) * 2).sum()},
                                              {conv->weight})[0];
  expect_close(conv->weight.grad(), expected);
}

TEST_F(FastConv2dTest, OtherShapesFallBackToLibTorch) {
  torch::NoGradGuard no_grad;
  const auto input = torch::randn({1, 16, 8, 8});
  EXPECT_FALSE(onednn_conv2d(*make(16, 16, 1, false, /*stride=*/2), input).defined());
  EXPECT_FALSE(onednn_conv2d(*make(16, 16, 0, false, 1, /*kernel=*/1), input).defined());
  EXPECT_FALSE(onednn_conv2d(*make(16, 16, 2, false), input).defined());
  EXPECT_FALSE(onednn_conv2d(*make(1, 16, 1, false), torch::randn({1, 1, 8, 8})).defined());
  EXPECT_FALSE(onednn_conv2d(*make(16, 16, 1, false), input.to(torch::kDouble)).defined());
  auto strided = make(16, 16, 1, false, 2);
  EXPECT_TRUE(torch::equal(strided->forward(input), torch::conv2d(input, strided->weight, {}, 2, 1)));
}

TEST_F(FastConv2dTest, PackedScopeRunsOtherSpatialKernelsOnOneDnn) {
  struct Case {
    int64_t in, kernel, stride, padding, height, width;
  };
  // The recognizers' 2x2 convolutions and a strided one whose right padding LibTorch's floor drops.
  for (const Case c : {Case{32, 2, 1, 0, 2, 25}, Case{512, 2, 2, 0, 4, 26}, Case{16, 3, 2, 1, 9, 10}}) {
    SCOPED_TRACE(::testing::Message() << c.kernel << "x" << c.kernel << " stride " << c.stride << " pad " << c.padding);
    auto conv = make(c.in, 48, c.padding, true, c.stride, c.kernel);
    const auto input = torch::randn({2, c.in, c.height, c.width});
    torch::NoGradGuard no_grad;
    const auto expected = torch::conv2d(input, conv->weight, conv->bias, c.stride, c.padding);
    EXPECT_FALSE(onednn_conv2d(*conv, input).defined());  // outside a scope: LibTorch
    PackedWeightsScope scope;
    const auto output = onednn_conv2d(*conv, input);
    ASSERT_TRUE(output.defined());
    expect_close(output, expected);
  }
}

// On every CPU: LibTorch would reorder the weights on each call. The strided one is a ResNet downsample (on an odd
// size: an even one makes LibTorch's floor drop a column, which the plan does not take).
TEST_F(FastConv2dTest, SmallBatchesRunPackedOneByOneConvolutions) {
  for (const int64_t stride : {1, 2}) {
    auto pointwise = make(32, 64, 0, true, stride, /*kernel=*/1);
    torch::NoGradGuard no_grad;
    PackedWeightsScope scope;
    for (const int64_t batch : {1, 4, 5}) {
      SCOPED_TRACE(::testing::Message() << "stride " << stride << ", batch " << batch);
      const auto input = torch::randn({batch, 32, 9, 25});
      const auto output = onednn_conv2d(*pointwise, input);
      EXPECT_EQ(output.defined(), batch <= 4);
      if (!output.defined()) continue;
      ASSERT_EQ(output.sizes(), (std::vector<int64_t>{batch, 64, stride == 1 ? 9 : 5, stride == 1 ? 25 : 13}));
      // 1x1: each output is a bias plus one dot product over the channels of the pixel under it
      const auto pixels = input.slice(2, 0, c10::nullopt, stride).slice(3, 0, c10::nullopt, stride);
      const auto expected = torch::einsum("oc,nchw->nohw", {pointwise->weight.flatten(1), pixels}) +
                            pointwise->bias.view({1, -1, 1, 1});
      expect_close(output, expected);
    }
  }
}

TEST_F(DirectOnlyTest, ThreeByThreeRunsPackedDirectInAScopeAndLibTorchElsewhere) {
  auto conv = make(32, 48, 1, true);
  const auto input = torch::randn({3, 32, 9, 13});
  const auto expected = torch::conv2d(input, conv->weight, conv->bias, 1, 1);
  {
    torch::NoGradGuard no_grad;
    EXPECT_FALSE(onednn_conv2d(*conv, input).defined());  // unpacked, oneDNN's direct kernel is LibTorch's own
    PackedWeightsScope scope;
    const auto packed = onednn_conv2d(*conv, input);
    ASSERT_TRUE(packed.defined());
    expect_close(packed, naive_conv3x3(input, conv->weight, conv->bias));
    expect_close(conv->forward(input), expected);
    EXPECT_EQ(packed_weight_count(), 1u);
  }
  PackedWeightsScope scope;  // training: no Winograd here, so LibTorch's autograd convolution
  const auto trained = conv->forward(input.clone().requires_grad_(true));
  ASSERT_NE(trained.grad_fn(), nullptr);
  EXPECT_EQ(trained.grad_fn()->name().find("WinogradConvolution"), std::string::npos) << trained.grad_fn()->name();
  EXPECT_TRUE(torch::equal(trained, expected));
}

TEST_F(FastConv2dTest, PackedScopeLeavesOneByOneAndFewChannelInputsToLibTorch) {
  torch::NoGradGuard no_grad;
  PackedWeightsScope scope;
  const auto features = torch::randn({8, 32, 8, 25});  // small batches differ on CPUs without Winograd: below
  auto pointwise = make(32, 64, 0, false, 1, /*kernel=*/1);
  EXPECT_FALSE(onednn_conv2d(*pointwise, features).defined());
  EXPECT_TRUE(torch::equal(pointwise->forward(features), torch::conv2d(features, pointwise->weight)));
  auto grey_input = make(1, 32, 1, false);
  EXPECT_FALSE(onednn_conv2d(*grey_input, torch::randn({2, 1, 32, 100})).defined());
  EXPECT_EQ(packed_weight_count(), 0u);
}

TEST_F(FastConv2dTest, SwitchOffIsLibTorchBitForBit) {
  WinogradSwitch off(false);
  auto conv = make(32, 32, 1, true);
  const auto input = torch::randn({2, 32, 8, 9});
  torch::NoGradGuard no_grad;
  EXPECT_FALSE(onednn_conv2d(*conv, input).defined());
  EXPECT_TRUE(torch::equal(conv->forward(input), torch::conv2d(input, conv->weight, conv->bias, 1, 1)));
}

TEST_F(FastConv2dTest, PackedWeightsFollowInPlaceChangesAndGoWithTheScope) {
  auto conv = make(32, 32, 1, false);
  const auto input = torch::randn({1, 32, 6, 10});
  torch::NoGradGuard no_grad;
  {
    PackedWeightsScope scope;
    const auto first = conv->forward(input);
    EXPECT_EQ(packed_weight_count(), 1u);
    expect_close(conv->forward(input), first);
    EXPECT_EQ(packed_weight_count(), 1u);  // reused, not repacked
    conv->weight.mul_(-2.0);              // bumps the version: the packed copy must not be used
    expect_close(conv->forward(input), first * -2.0);
    EXPECT_EQ(packed_weight_count(), 1u);  // the old copy was replaced
    {
      auto other = make(32, 32, 1, false);
      other->forward(input);
      EXPECT_EQ(packed_weight_count(), 2u);
    }
    make(32, 32, 1, false)->forward(input);  // the dead module's copy is dropped when the next one is packed
    EXPECT_EQ(packed_weight_count(), 2u);
  }
  EXPECT_EQ(packed_weight_count(), 0u);
}

TEST(FastConv2d, SameStateDictKeysAsConv2d) {
  auto fast = make(16, 32, 1, true);
  torch::nn::Conv2d plain(torch::nn::Conv2dOptions(16, 32, 3).padding(1));
  std::vector<std::string> fast_keys, plain_keys;
  for (const auto& item : fast->named_parameters()) fast_keys.push_back(item.key());
  for (const auto& item : plain->named_parameters()) plain_keys.push_back(item.key());
  EXPECT_EQ(fast_keys, plain_keys);
  EXPECT_EQ(fast->weight.sizes(), plain->weight.sizes());
  EXPECT_NE(std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(fast.ptr()), nullptr);
}

// One LSTM direction the way the gate equations read (gates i, f, g, o; LibTorch's layout), in double.
torch::Tensor naive_lstm_direction(const torch::Tensor& input, const torch::Tensor& w_ih, const torch::Tensor& w_hh,
                                   const torch::Tensor& b_ih, const torch::Tensor& b_hh, bool reverse) {
  const auto x = input.to(torch::kDouble);
  const int64_t batch = x.size(0), steps = x.size(1), hidden = w_hh.size(1);
  auto h = torch::zeros({batch, hidden}, torch::kDouble), c = torch::zeros({batch, hidden}, torch::kDouble);
  auto output = torch::zeros({batch, steps, hidden}, torch::kDouble);
  const auto wi = w_ih.to(torch::kDouble), wh = w_hh.to(torch::kDouble);
  const auto bias = (b_ih + b_hh).to(torch::kDouble);
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = reverse ? steps - 1 - s : s;
    const auto gates = x.select(1, t).matmul(wi.t()) + h.matmul(wh.t()) + bias;
    const auto i = torch::sigmoid(gates.slice(1, 0, hidden));
    const auto f = torch::sigmoid(gates.slice(1, hidden, 2 * hidden));
    const auto g = torch::tanh(gates.slice(1, 2 * hidden, 3 * hidden));
    const auto o = torch::sigmoid(gates.slice(1, 3 * hidden, 4 * hidden));
    c = f * c + i * g;
    h = o * torch::tanh(c);
    output.select(1, t).copy_(h);
  }
  return output.to(torch::kFloat);
}

torch::nn::LSTM make_lstm(int64_t features, int64_t hidden, bool bidirectional) {
  return torch::nn::LSTM(torch::nn::LSTMOptions(features, hidden).bidirectional(bidirectional).batch_first(true));
}

TEST_F(FastLstmTest, BidirectionalMatchesNaiveLoopAndLibTorch) {
  auto lstm = make_lstm(24, 16, true);
  for (const int64_t batch : {1, 3}) {
    SCOPED_TRACE(::testing::Message() << "batch " << batch);
    const auto input = torch::randn({batch, 7, 24});
    torch::NoGradGuard no_grad;
    const auto output = onednn_lstm_sequence(*lstm, input);
    ASSERT_TRUE(output.defined());
    ASSERT_EQ(output.sizes(), (std::vector<int64_t>{batch, 7, 32}));
    const auto p = lstm->named_parameters();
    const auto forward = naive_lstm_direction(input, p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"],
                                              p["bias_hh_l0"], false);
    const auto backward = naive_lstm_direction(input, p["weight_ih_l0_reverse"], p["weight_hh_l0_reverse"],
                                               p["bias_ih_l0_reverse"], p["bias_hh_l0_reverse"], true);
    expect_close(output, torch::cat({forward, backward}, 2), 1e-5);
    expect_close(output, std::get<0>(lstm->forward(input)), 1e-5);
  }
}

TEST_F(FastLstmTest, UnidirectionalMatchesLibTorch) {
  auto lstm = make_lstm(10, 12, false);
  const auto input = torch::randn({2, 5, 10});
  torch::NoGradGuard no_grad;
  const auto output = onednn_lstm_sequence(*lstm, input);
  ASSERT_TRUE(output.defined());
  expect_close(output, std::get<0>(lstm->forward(input)), 1e-5);
}

TEST_F(FastLstmTest, TrainingAndOtherLayoutsStayOnLibTorch) {
  auto lstm = make_lstm(8, 8, true);
  const auto input = torch::randn({2, 4, 8});
  EXPECT_FALSE(onednn_lstm_sequence(*lstm, input).defined());  // weights need gradients: autograd's LSTM
  torch::NoGradGuard no_grad;
  EXPECT_FALSE(onednn_lstm_sequence(*make_lstm(8, 8, true), input.to(torch::kDouble)).defined());
  auto time_first = torch::nn::LSTM(torch::nn::LSTMOptions(8, 8).bidirectional(true));
  EXPECT_FALSE(onednn_lstm_sequence(*time_first, input).defined());
  auto stacked = torch::nn::LSTM(torch::nn::LSTMOptions(8, 8).num_layers(2).batch_first(true));
  EXPECT_FALSE(onednn_lstm_sequence(*stacked, input).defined());
  WinogradSwitch off(false);
  EXPECT_FALSE(onednn_lstm_sequence(*lstm, input).defined());
}

TEST_F(FastLstmTest, PackedWeightsFollowInPlaceChanges) {
  auto lstm = make_lstm(8, 6, true);
  const auto input = torch::randn({1, 5, 8});
  torch::NoGradGuard no_grad;
  PackedWeightsScope scope;
  const auto first = onednn_lstm_sequence(*lstm, input);
  EXPECT_EQ(packed_weight_count(), 3u);  // input weights, hidden weights, summed biases
  EXPECT_TRUE(torch::equal(onednn_lstm_sequence(*lstm, input), first));
  EXPECT_EQ(packed_weight_count(), 3u);
  lstm->named_parameters()["weight_hh_l0"].mul_(0.5);
  const auto changed = onednn_lstm_sequence(*lstm, input);
  expect_close(changed, std::get<0>(lstm->forward(input)), 1e-5);
  EXPECT_FALSE(torch::allclose(changed, first));
}

// Folding is plain arithmetic on the weights, so it holds on every CPU, with or without oneDNN.
TEST(ConvBatchNorm, FoldsInsideAPackedScopeOnlyAndFollowsInPlaceChanges) {
  torch::manual_seed(21);
  auto conv = make(16, 24, 1, false);
  BatchNorm2d bn(24);
  {
    torch::NoGradGuard no_grad;
    bn->weight.uniform_(0.5, 1.5);
    bn->bias.uniform_(-0.5, 0.5);
    bn->running_mean.uniform_(-0.3, 0.3);
    bn->running_var.uniform_(0.5, 2.0);
  }
  conv->eval();
  bn->eval();
  const auto input = torch::randn({2, 16, 7, 9});
  torch::NoGradGuard no_grad;
  const auto expected = bn->forward(conv->forward(input));
  EXPECT_TRUE(torch::equal(conv_batch_norm(conv, bn, input), expected));  // no scope: the two layers as they are
  EXPECT_EQ(folded_convolution_count(), 0u);
  {
    PackedWeightsScope scope;
    expect_close(conv_batch_norm(conv, bn, input), expected);
    expect_close(conv_batch_norm(conv, bn, input), expected);
    EXPECT_EQ(folded_convolution_count(), 1u);  // folded once, reused
    bn->running_mean.add_(0.25);               // an in-place change must refold
    expect_close(conv_batch_norm(conv, bn, input), bn->forward(conv->forward(input)));
    EXPECT_EQ(folded_convolution_count(), 1u);
    bn->train();  // batch statistics cannot be folded
    EXPECT_TRUE(torch::equal(conv_batch_norm(conv, bn, input), bn->forward(conv->forward(input))));
    bn->eval();
    WinogradSwitch off(false);  // --kernels libtorch: the two layers as they are
    EXPECT_TRUE(torch::equal(conv_batch_norm(conv, bn, input), bn->forward(conv->forward(input))));
  }
  EXPECT_EQ(folded_convolution_count(), 0u);
}

// A ResNet in eval mode whose batch norms hold statistics of their own, so that folding them matters.
ResNet eval_resnet(int depth) {
  ResNet net(ResNetOptions{depth, 10});
  torch::NoGradGuard no_grad;
  for (auto& module : net->modules(/*include_self=*/false)) {
    if (auto* bn = dynamic_cast<BatchNorm2dImpl*>(module.get())) {
      bn->weight.uniform_(0.4, 0.9);
      bn->bias.uniform_(-0.2, 0.2);
      bn->running_mean.uniform_(-0.1, 0.1);
      bn->running_var.uniform_(0.8, 2.0);
    }
  }
  net->eval();
  return net;
}

// The features and logits LibTorch's own kernels compute layer by layer (the arithmetic of PyTorch).
std::pair<torch::Tensor, torch::Tensor> libtorch_reference(ResNet& net, const torch::Tensor& input) {
  WinogradSwitch off(false);
  torch::NoGradGuard no_grad;
  auto x = torch::max_pool2d(net->bn1->forward(net->conv1->forward(input)).relu_(), 3, 2, 1);
  for (auto* layer : {&net->layer1, &net->layer2, &net->layer3, &net->layer4}) x = (*layer)->forward(x);
  return {x, net->forward(input)};
}

class BlockedNetworkTest : public FastKernelsTest {};

// Basic blocks (ResNet18) and bottlenecks (ResNet50), with and without a downsampling shortcut; batches on both
// sides of the packed Winograd's batch limit (4); odd sizes, where the stem, the pool and the strided
// convolutions pad unevenly on the right.
TEST_F(BlockedNetworkTest, MatchesLibTorchLayerByLayer) {
  for (const int depth : {18, 50}) {
    auto net = eval_resnet(depth);
    for (const auto& shape : std::vector<std::vector<int64_t>>{{1, 3, 64, 64}, {5, 3, 45, 71}}) {
      SCOPED_TRACE(::testing::Message() << "resnet" << depth << " input " << torch::IntArrayRef(shape));
      const auto input = torch::randn(shape);
      const auto [features, logits] = libtorch_reference(net, input);
      PackedWeightsScope scope;
      torch::NoGradGuard no_grad;
      const auto blocked = net->blocked_features().forward(input);
      ASSERT_TRUE(blocked.defined());
      expect_close(blocked, features, 1e-4);
      expect_close(net->forward(input), logits, 1e-4);  // forward() takes the same path
      expect_close(net->blocked_features().forward(input), features, 1e-4);  // the kept plan and weights again
    }
  }
}

TEST_F(BlockedNetworkTest, RunsOnlyAtInferenceInsideAPackedScope) {
  auto net = eval_resnet(18);
  const auto input = torch::randn({2, 3, 32, 32});
  {
    torch::NoGradGuard no_grad;
    EXPECT_FALSE(net->blocked_features().forward(input).defined()) << "outside a PackedWeightsScope";
  }
  PackedWeightsScope scope;
  EXPECT_FALSE(net->blocked_features().forward(input).defined()) << "with gradients on";
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(net->blocked_features().forward(input).defined());
  {
    torch::InferenceMode inference;  // as `test` and the benchmarks run it
    EXPECT_TRUE(net->blocked_features().forward(torch::randn({2, 3, 32, 32})).defined());
  }
  EXPECT_FALSE(net->blocked_features().forward(input.to(torch::kDouble)).defined());
  net->layer2->ptr(0)->train();  // one block's batch norms in training mode: nothing may be folded
  EXPECT_FALSE(net->blocked_features().forward(input).defined());
  net->eval();
  net->train();
  EXPECT_FALSE(net->blocked_features().forward(input).defined()) << "in training mode";
  net->eval();
  WinogradSwitch off(false);
  EXPECT_FALSE(net->blocked_features().forward(input).defined()) << "--kernels libtorch";
}

TEST_F(BlockedNetworkTest, FollowsInPlaceWeightChanges) {
  auto net = eval_resnet(18);
  const auto input = torch::randn({1, 3, 40, 40});
  PackedWeightsScope scope;
  torch::NoGradGuard no_grad;
  const auto before = net->blocked_features().forward(input);
  auto block = net->layer3->ptr<BasicBlockImpl>(1);
  block->conv2->weight.mul_(-1.5);      // kept packed and folded copies must be made again
  block->bn2->running_mean.add_(0.3);
  const auto after = net->blocked_features().forward(input);
  EXPECT_FALSE(torch::allclose(after, before));
  expect_close(after, libtorch_reference(net, input).first, 1e-4);
}

TEST(Kernels, OptionSetsTheSwitchAndRejectsUnknownNames) {
  WinogradSwitch restore(true);
  use_kernels("libtorch");
  EXPECT_FALSE(fast_kernels_enabled());
  use_kernels("fast");
  EXPECT_TRUE(fast_kernels_enabled());
  try {
    use_kernels("mkl");
    FAIL() << "no error for an unknown name";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--kernels mkl: unknown kernels (use fast or libtorch)");
  }
  EXPECT_TRUE(fast_kernels_enabled());  // a bad name changes nothing
}

}  // namespace
}  // namespace cargovision::models
