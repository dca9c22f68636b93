#include "cargovision/ocr/align_collate.h"

#include <cmath>

#include "cargovision/core/error.h"
#include "cargovision/data/pillow.h"

namespace cargovision::ocr {

int pad_resized_width(int width, int height, const AlignCollateOptions& options) {
  const double ratio = static_cast<double>(width) / static_cast<double>(height);
  const double wanted = std::ceil(options.imgH * ratio);
  return wanted > options.imgW ? options.imgW : std::max(1, static_cast<int>(wanted));
}

void align_into(const cv::Mat& image, const AlignCollateOptions& options, torch::Tensor target) {
  const int channels = image.channels();
  require(target.size(0) == channels && target.size(1) == options.imgH && target.size(2) == options.imgW,
          "align_into: target is not [{}, {}, {}]", channels, options.imgH, options.imgW);
  const int width = options.PAD ? pad_resized_width(image.cols, image.rows, options) : options.imgW;
  const cv::Mat resized = resize_bicubic_pillow(image, width, options.imgH);
  auto out = target.accessor<float, 3>();
  for (int y = 0; y < options.imgH; ++y) {
    const auto* row = resized.ptr<std::uint8_t>(y);
    for (int c = 0; c < channels; ++c) {
      for (int x = 0; x < options.imgW; ++x) {
        // ToTensor's x / 255 then (x - 0.5) / 0.5, in float as torch computes it.
        const int source_x = x < width ? x : width - 1;
        const float v = static_cast<float>(row[source_x * channels + c]) / 255.0f;
        out[c][y][x] = (v - 0.5f) / 0.5f;
      }
    }
  }
}

torch::Tensor align_collate(const std::vector<cv::Mat>& images, const AlignCollateOptions& options) {
  require(!images.empty(), "align_collate: empty batch");
  const int channels = images.front().channels();
  torch::Tensor batch = torch::empty({static_cast<long>(images.size()), channels, options.imgH, options.imgW});
  for (std::size_t i = 0; i < images.size(); ++i) {
    require(images[i].channels() == channels, "align_collate: mixed grey and colour crops in one batch");
    align_into(images[i], options, batch[static_cast<long>(i)]);
  }
  return batch;
}

}  // namespace cargovision::ocr
