#pragma once
// The direct 3x3 convolution as its definition reads, in double: the reference the fast kernels' tests compare
// against at fixed seeds, and the comparison they use.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

namespace cargovision::reference {

inline torch::Tensor naive_conv3x3(const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias,
                                   int64_t pad_h = 1, int64_t pad_w = 1) {
  const auto x = input.to(torch::kDouble).contiguous();
  const auto w = weight.to(torch::kDouble).contiguous();
  const auto xa = x.accessor<double, 4>();
  const auto wa = w.accessor<double, 4>();
  const int64_t batch = x.size(0), in = x.size(1), height = x.size(2), width = x.size(3), out = w.size(0);
  const int64_t out_h = height + 2 * pad_h - 2, out_w = width + 2 * pad_w - 2;
  auto result = torch::zeros({batch, out, out_h, out_w}, torch::kDouble);
  auto r = result.accessor<double, 4>();
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t o = 0; o < out; ++o)
      for (int64_t y = 0; y < out_h; ++y)
        for (int64_t xo = 0; xo < out_w; ++xo) {
          double sum = bias.defined() ? bias[o].item<double>() : 0.0;
          for (int64_t i = 0; i < in; ++i)
            for (int64_t ky = 0; ky < 3; ++ky)
              for (int64_t kx = 0; kx < 3; ++kx) {
                const int64_t sy = y + ky - pad_h, sx = xo + kx - pad_w;
                if (sy >= 0 && sy < height && sx >= 0 && sx < width) sum += xa[n][i][sy][sx] * wa[o][i][ky][kx];
              }
          r[n][o][y][xo] = sum;
        }
  return result;
}

// Winograd reorders the arithmetic, and its error grows with the input channels: compared against the expected
// values' scale.
inline void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, double relative = 2e-5) {
  ASSERT_EQ(actual.sizes(), expected.sizes());
  const double scale = expected.abs().max().item<double>();
  const double error = (actual.to(torch::kDouble) - expected.to(torch::kDouble)).abs().max().item<double>();
  EXPECT_LE(error, relative * scale) << "max error " << error << " at scale " << scale;
}

struct ConvCase {
  int64_t batch, in, out, height, width, pad_h, pad_w;
  bool bias;
};

// convolve(input, weight, bias, pad_h, pad_w) on each case's random tensors (bias undefined where the case has
// none), against naive_conv3x3.
template <typename Convolve>
void expect_matches_naive_loop(const std::vector<ConvCase>& cases, Convolve&& convolve) {
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << c.batch << "x" << c.in << "x" << c.height << "x" << c.width << " -> " << c.out
                                    << " pad " << c.pad_h << "," << c.pad_w);
    const auto input = torch::randn({c.batch, c.in, c.height, c.width});
    const auto weight = torch::randn({c.out, c.in, 3, 3});
    const auto bias = c.bias ? torch::randn({c.out}) : torch::Tensor();
    torch::NoGradGuard no_grad;
    expect_close(convolve(input, weight, bias, c.pad_h, c.pad_w), naive_conv3x3(input, weight, bias, c.pad_h, c.pad_w));
  }
}

}  // namespace cargovision::reference
