#include "cargovision/data/image_pipeline.h"

#include "cargovision/core/error.h"

namespace cargovision {

Normalization parse_normalization(const std::string& name) {
  if (name == "rescale") return Normalization::kRescale;
  if (name == "imagenet") return Normalization::kImagenet;
  throw Error("unknown normalization '" + name + "' (use rescale or imagenet)");
}

std::string to_string(Normalization normalization) {
  return normalization == Normalization::kImagenet ? "imagenet" : "rescale";
}

cv::Mat ImagePipeline::prepare(const cv::Mat& rgb, const TransformParams* transform) const {
  CV_Assert(rgb.type() == CV_8UC3);
  cv::Mat resized = resize_image(rgb, image_size, image_size, resize);
  cv::Mat image;
  resized.convertTo(image, CV_32FC3);
  if (augment && transform != nullptr) image = apply_transform(image, *transform, flavour);
  // Keras multiplies the float32 array by the Python float 1/255, which numpy rounds to float32.
  const float rescale = static_cast<float>(1.0 / 255.0);
  image *= rescale;
  if (normalization == Normalization::kImagenet) {
    const cv::Scalar mean(0.485, 0.456, 0.406);
    const cv::Scalar std_dev(0.229, 0.224, 0.225);
    cv::subtract(image, mean, image);
    cv::divide(image, std_dev, image);
  }
  return image;
}

void ImagePipeline::to_chw(const cv::Mat& prepared, float* destination) {
  CV_Assert(prepared.type() == CV_32FC3 && prepared.isContinuous());
  const size_t plane = prepared.total();
  const float* source = prepared.ptr<float>();
  for (size_t i = 0; i < plane; ++i) {
    destination[i] = source[3 * i];
    destination[plane + i] = source[3 * i + 1];
    destination[2 * plane + i] = source[3 * i + 2];
  }
}

}  // namespace cargovision
