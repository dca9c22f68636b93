#pragma once
// Where the recognizer's loaders take samples from: an LMDB selection or the code-crop generator.

#include <cstddef>
#include <opencv2/core.hpp>
#include <string>

namespace cargovision::ocr {

struct OcrSample {
  cv::Mat image;       // 8-bit grey (CV_8UC1) or RGB (CV_8UC3), the stored size
  std::string label;   // UTF-8, lower-cased unless sensitive, characters outside `character` removed
  bool dummy = false;  // the stored image was corrupt: a black imgW x imgH image and "[dummy_label]"
};

class OcrSampleSource {
 public:
  virtual ~OcrSampleSource() = default;
  // Number of samples; an endless stream says so with endless().
  virtual std::size_t size() const = 0;
  virtual bool endless() const { return false; }
  // The i-th sample (0-based); the same i gives the same sample. Thread-safe.
  virtual OcrSample get(std::size_t i) const = 0;
};

}  // namespace cargovision::ocr
