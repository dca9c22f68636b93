#pragma once
// Architecture options of the recognizer, under the original names (torch-free).

#include <cstdint>
#include <string>

namespace cargovision::ocr {

struct OcrModelOptions {
  std::string Transformation = "TPS";
  std::string FeatureExtraction = "ResNet";
  std::string SequenceModeling = "BiLSTM";
  std::string Prediction = "Attn";
  int64_t num_fiducial = 20;
  int64_t imgH = 32;
  int64_t imgW = 100;
  int64_t input_channel = 1;
  int64_t output_channel = 512;
  int64_t hidden_size = 256;
  int64_t num_class = 38;
  int64_t batch_max_length = 25;
};

}  // namespace cargovision::ocr
