#pragma once
// Stage 1 of the recognizer: the thin-plate-spline spatial transformer (RARE) that rectifies a crop
// before feature extraction. Module and buffer names are the original's.

#include <torch/torch.h>

namespace cargovision::ocr {

class LocalizationNetworkImpl : public torch::nn::Module {
 public:
  LocalizationNetworkImpl(int64_t num_fiducial, int64_t input_channel);
  torch::Tensor forward(torch::Tensor input);  // [B, C, H, W] -> fiducials C' [B, F, 2]

  torch::nn::Sequential conv{nullptr};
  torch::nn::Sequential localization_fc1{nullptr};
  torch::nn::Linear localization_fc2{nullptr};

 private:
  int64_t num_fiducial_;
};
TORCH_MODULE(LocalizationNetwork);

// The initial fiducials the localization network starts from: F/2 points along the top edge going
// up from the centre line and F/2 along the bottom, as (x, y) pairs, top row first.
torch::Tensor initial_fiducials(int64_t num_fiducial);

class GridGeneratorImpl : public torch::nn::Module {
 public:
  GridGeneratorImpl(int64_t num_fiducial, int64_t height, int64_t width);
  // Sampling grid [B, H, W, 2] for the predicted fiducials C' [B, F, 2].
  torch::Tensor forward(torch::Tensor fiducials);

  torch::Tensor inv_delta_C;  // [F+3, F+3]
  torch::Tensor P_hat;        // [H*W, F+3]

 private:
  int64_t height_, width_;
};
TORCH_MODULE(GridGenerator);

class TpsSpatialTransformerImpl : public torch::nn::Module {
 public:
  TpsSpatialTransformerImpl(int64_t num_fiducial, int64_t height, int64_t width, int64_t input_channel);
  torch::Tensor forward(torch::Tensor input);

  ocr::LocalizationNetwork localization{nullptr};  // registered as LocalizationNetwork
  ocr::GridGenerator grid_generator{nullptr};      // registered as GridGenerator
};
TORCH_MODULE(TpsSpatialTransformer);

}  // namespace cargovision::ocr
