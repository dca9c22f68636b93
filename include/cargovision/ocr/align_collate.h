#pragma once
// The original AlignCollate: every crop resized to imgH x imgW with Pillow's bicubic (or, with PAD,
// resized to its aspect-kept width and right-padded by repeating its last column), scaled to [-1, 1].

#include <torch/torch.h>

#include <opencv2/core.hpp>
#include <vector>

namespace cargovision::ocr {

struct AlignCollateOptions {
  int imgH = 32;
  int imgW = 100;
  bool PAD = false;
};

// The width a crop of w x h gets under PAD: min(ceil(imgH * w / h), imgW).
int pad_resized_width(int width, int height, const AlignCollateOptions& options);

// Writes one crop (8-bit, 1 or 3 channels) into `target` [C, imgH, imgW] float32.
void align_into(const cv::Mat& image, const AlignCollateOptions& options, torch::Tensor target);

// A batch [B, C, imgH, imgW] float32 from crops that all have C channels.
torch::Tensor align_collate(const std::vector<cv::Mat>& images, const AlignCollateOptions& options);

}  // namespace cargovision::ocr
