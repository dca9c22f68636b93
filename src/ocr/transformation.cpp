#include "cargovision/ocr/transformation.h"

#include <cmath>

#include "cargovision/models/batch_norm.h"
#include "cargovision/models/fast_conv2d.h"

namespace cargovision::ocr {
namespace nn = torch::nn;

namespace {

void add_conv_block(nn::Sequential& sequence, int64_t in, int64_t out) {
  sequence->push_back(models::FastConv2d(nn::Conv2dOptions(in, out, 3).padding(1).bias(false)));
  sequence->push_back(models::BatchNorm2d(out));
  sequence->push_back(nn::ReLU(true));
}

// Fiducials of the rectified image: x evenly spaced in [-1, 1], y = -1 (top) and +1 (bottom). Double.
torch::Tensor target_fiducials(int64_t num_fiducial) {
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);
  const auto x = torch::linspace(-1.0, 1.0, num_fiducial / 2, options);
  const auto top = torch::stack({x, -torch::ones_like(x)}, 1);
  const auto bottom = torch::stack({x, torch::ones_like(x)}, 1);
  return torch::cat({top, bottom}, 0);
}

}  // namespace

torch::Tensor initial_fiducials(int64_t num_fiducial) {
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);
  const auto x = torch::linspace(-1.0, 1.0, num_fiducial / 2, options);
  const auto top = torch::stack({x, torch::linspace(0.0, -1.0, num_fiducial / 2, options)}, 1);
  const auto bottom = torch::stack({x, torch::linspace(1.0, 0.0, num_fiducial / 2, options)}, 1);
  return torch::cat({top, bottom}, 0).to(torch::kFloat32);
}

LocalizationNetworkImpl::LocalizationNetworkImpl(int64_t num_fiducial, int64_t input_channel)
    : num_fiducial_(num_fiducial) {
  TORCH_CHECK(num_fiducial >= 4 && num_fiducial % 2 == 0, "num_fiducial must be even and >= 4, got ", num_fiducial);
  conv = nn::Sequential();
  add_conv_block(conv, input_channel, 64);
  conv->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
  add_conv_block(conv, 64, 128);
  conv->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
  add_conv_block(conv, 128, 256);
  conv->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
  add_conv_block(conv, 256, 512);
  conv->push_back(nn::AdaptiveAvgPool2d(1));
  register_module("conv", conv);
  localization_fc1 = register_module("localization_fc1", nn::Sequential(nn::Linear(512, 256), nn::ReLU(true)));
  localization_fc2 = register_module("localization_fc2", nn::Linear(256, num_fiducial * 2));
  torch::NoGradGuard no_grad;
  localization_fc2->weight.zero_();
  localization_fc2->bias.copy_(initial_fiducials(num_fiducial).reshape({-1}));
}

torch::Tensor LocalizationNetworkImpl::forward(torch::Tensor input) {
  const auto features = conv->forward(input).view({input.size(0), -1});
  return localization_fc2->forward(localization_fc1->forward(features)).view({input.size(0), num_fiducial_, 2});
}

GridGeneratorImpl::GridGeneratorImpl(int64_t num_fiducial, int64_t height, int64_t width)
    : height_(height), width_(width) {
  const int64_t f = num_fiducial;
  const auto c = target_fiducials(f);                                   // [F, 2]
  auto hat_c = torch::cdist(c, c);                                      // pairwise distances
  hat_c.fill_diagonal_(1.0);
  hat_c = hat_c.pow(2) * hat_c.log();
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const auto delta_c = torch::cat(
      {torch::cat({torch::ones({f, 1}, f64), c, hat_c}, 1),
       torch::cat({torch::zeros({2, 3}, f64), c.t()}, 1),
       torch::cat({torch::zeros({1, 3}, f64), torch::ones({1, f}, f64)}, 1)},
      0);
  const auto inverse = torch::inverse(delta_c);

  const auto grid_x = (torch::arange(-width, width, 2, f64) + 1.0) / static_cast<double>(width);
  const auto grid_y = (torch::arange(-height, height, 2, f64) + 1.0) / static_cast<double>(height);
  const auto mesh = torch::meshgrid({grid_y, grid_x}, "ij");                // y outer, x inner
  const auto p = torch::stack({mesh[1], mesh[0]}, 2).reshape({-1, 2});     // [n, 2] as (x, y)
  const auto r = (p.unsqueeze(1) - c.unsqueeze(0)).norm(2, 2);             // [n, F]
  const auto rbf = r.pow(2) * (r + 1e-6).log();
  const auto p_hat = torch::cat({torch::ones({p.size(0), 1}, f64), p, rbf}, 1);

  inv_delta_C = register_buffer("inv_delta_C", inverse.to(torch::kFloat32));
  P_hat = register_buffer("P_hat", p_hat.to(torch::kFloat32));
}

torch::Tensor GridGeneratorImpl::forward(torch::Tensor fiducials) {
  const auto batch = fiducials.size(0);
  const auto with_zeros = torch::cat({fiducials, torch::zeros({batch, 3, 2}, fiducials.options())}, 1);
  const auto transform = torch::matmul(inv_delta_C, with_zeros);   // [B, F+3, 2]
  return torch::matmul(P_hat, transform).reshape({batch, height_, width_, 2});
}

TpsSpatialTransformerImpl::TpsSpatialTransformerImpl(int64_t num_fiducial, int64_t height, int64_t width,
                                                     int64_t input_channel) {
  localization = register_module("LocalizationNetwork", ocr::LocalizationNetwork(num_fiducial, input_channel));
  grid_generator = register_module("GridGenerator", ocr::GridGenerator(num_fiducial, height, width));
}

torch::Tensor TpsSpatialTransformerImpl::forward(torch::Tensor input) {
  const auto grid = grid_generator->forward(localization->forward(input));
  namespace F = torch::nn::functional;
  return F::grid_sample(input, grid,
                        F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kBorder).align_corners(true));
}

}  // namespace cargovision::ocr
