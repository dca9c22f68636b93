#pragma once
// The recognizer as a component for other programs (a gate's software, a service): load a model once,
// read crops. The header needs neither LibTorch nor CLI11, so a consumer compiles in seconds.

#include <opencv2/core.hpp>

#include <memory>
#include <string>
#include <vector>

#include "cargovision/ocr/options.h"

namespace cargovision::ocr {

struct CodeReading {
  std::string text;
  double confidence = 0;  // the product of the per-character probabilities, as demo_ocr reports it
};

class CodeRecognizer {
 public:
  // options: architecture, alphabet and saved_model as demo_ocr takes them (finalize()d here).
  explicit CodeRecognizer(OcrDemoOptions options);
  // The shipped model (data/models/codes_recognizer; see shipped_model_path()).
  static CodeRecognizer shipped();
  // A model packed by pack_ocr_model: <stem>.pth and <stem>.json (an installed package's shipped model is
  // ${cargovision_MODELS_DIR}/codes_recognizer).
  static CodeRecognizer from_package(const std::string& stem);
  ~CodeRecognizer();
  CodeRecognizer(CodeRecognizer&&) noexcept;
  CodeRecognizer& operator=(CodeRecognizer&&) noexcept;

  // Crops as OpenCV reads them (8-bit BGR or grey); each is converted as demo_ocr converts a file, and
  // its reading checked as options().code_check says (container numbers by their check digit by default), and
  // read again in variants when its confidence is below options().reread_below (ocr/reread.h).
  std::vector<CodeReading> read(const std::vector<cv::Mat>& crops) const;
  CodeReading read(const cv::Mat& crop) const;
  // A file, read as demo_ocr reads it; Error naming the file when it is not a readable image.
  CodeReading read_file(const std::string& path) const;

  const OcrDemoOptions& options() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace cargovision::ocr
