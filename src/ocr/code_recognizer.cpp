#include "cargovision/ocr/code_recognizer.h"

#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "cargovision/core/device.h"
#include "cargovision/core/error.h"
#include "cargovision/data/pillow.h"
#include "cargovision/io/image_reader.h"
#include "cargovision/ocr/align_collate.h"
#include "cargovision/ocr/checkpoint.h"
#include "cargovision/ocr/code_check.h"
#include "cargovision/ocr/reread.h"
#include "cargovision/ocr/converter.h"
#include "cargovision/ocr/model.h"
#include "cargovision/ocr/recognize.h"
#include "cargovision/ocr/shipped_model.h"

namespace cargovision::ocr {

struct CodeRecognizer::State {
  OcrDemoOptions options;
  std::unique_ptr<LabelConverter> converter;
  OcrModel model{nullptr};
  c10::Device device{torch::kCPU};
};

CodeRecognizer::CodeRecognizer(OcrDemoOptions options) : state_(std::make_unique<State>()) {
  require(!options.saved_model.empty(), "CodeRecognizer: no saved_model given");
  finalize(static_cast<OcrRecognizerOptions&>(options));  // no image_folder or lmdb: crops come from the caller
  state_->options = std::move(options);
  const OcrDemoOptions& o = state_->options;
  state_->device = parse_device(o.device);
  state_->converter = make_converter(o.Prediction, o.character);
  state_->model = OcrModel(model_options(o, state_->converter->num_class()));
  load_ocr_checkpoint(*state_->model, o.saved_model, /*fine_tune=*/false);
  state_->model->to(state_->device);
  state_->model->eval();
}

CodeRecognizer CodeRecognizer::shipped() { return CodeRecognizer(shipped_demo_options()); }

CodeRecognizer CodeRecognizer::from_package(const std::string& stem) { return CodeRecognizer(packaged_model_options(stem)); }

CodeRecognizer::~CodeRecognizer() = default;
CodeRecognizer::CodeRecognizer(CodeRecognizer&&) noexcept = default;
CodeRecognizer& CodeRecognizer::operator=(CodeRecognizer&&) noexcept = default;

const OcrDemoOptions& CodeRecognizer::options() const { return state_->options; }

std::vector<CodeReading> CodeRecognizer::read(const std::vector<cv::Mat>& crops) const {
  if (crops.empty()) return {};
  const OcrDemoOptions& o = state_->options;
  const AlignCollateOptions collate{o.imgH, o.imgW, o.PAD};
  auto images = torch::empty({static_cast<long>(crops.size()), o.rgb ? 3 : 1, o.imgH, o.imgW});
  std::vector<cv::Mat> inputs(crops.size());
  for (std::size_t i = 0; i < crops.size(); ++i) {
    const cv::Mat& crop = crops[i];
    require(!crop.empty() && crop.depth() == CV_8U && (crop.channels() == 1 || crop.channels() == 3),
            "CodeRecognizer: crop {} is not an 8-bit grey or BGR image", i);
    cv::Mat rgb;
    cv::cvtColor(crop, rgb, crop.channels() == 1 ? cv::COLOR_GRAY2RGB : cv::COLOR_BGR2RGB);
    // As demo_ocr: the RGB image, or its grey conversion the way Pillow's convert('L') computes it.
    inputs[i] = o.rgb ? rgb : rgb_to_grey_pillow(rgb);
    align_into(inputs[i], collate, images[static_cast<long>(i)]);
  }
  torch::NoGradGuard no_grad;
  Recognition recognition =
      recognize(state_->model, *state_->converter, images.to(state_->device), /*stop_when_all_ended=*/true);
  const CropReader read_as_is = [&](const std::vector<cv::Mat>& bands) {
    auto band_images = torch::empty({static_cast<long>(bands.size()), o.rgb ? 3 : 1, o.imgH, o.imgW});
    for (std::size_t i = 0; i < bands.size(); ++i) align_into(bands[i], collate, band_images[static_cast<long>(i)]);
    return recognize_in_slices(state_->model, *state_->converter, band_images.to(state_->device), o.batch_size,
                               /*stop_when_all_ended=*/true);
  };
  const CodeCheck check = parse_code_check(o.code_check);
  apply_code_check(recognition, check, o.character, o.Prediction == "CTC", inputs, read_as_is);
  reread_uncertain(recognition, inputs, o.reread_below, checked_reader(read_as_is, check, o.character, o.Prediction == "CTC"));
  std::vector<CodeReading> readings;
  for (std::size_t i = 0; i < crops.size(); ++i) readings.push_back({recognition.predictions[i], recognition.confidence[i]});
  return readings;
}

CodeReading CodeRecognizer::read(const cv::Mat& crop) const { return read(std::vector<cv::Mat>{crop}).front(); }

CodeReading CodeRecognizer::read_file(const std::string& path) const {
  cv::Mat bgr;
  cv::cvtColor(read_rgb_image(path), bgr, cv::COLOR_RGB2BGR);
  return read(bgr);
}

}  // namespace cargovision::ocr
