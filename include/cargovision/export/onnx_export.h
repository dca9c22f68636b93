#pragma once
// ONNX export of both pipelines' models, for onnxruntime, TensorRT or OpenCV's DNN module. Every stage of
// the recognizer exports, TPS (GridSample) and the attention decoder's greedy loop (unrolled, its arg-max fed
// back inside the graph) included; the classifier exports as backbone + head with a sigmoid output. Opset
// 17, dynamic batch size, and in the file's metadata what a consumer needs to prepare inputs and decode
// outputs without this library (onnx_models.h lists the keys). No LibTorch in this header.

#include <cstddef>
#include <string>

namespace cargovision {

struct OnnxExportOptions {
  std::string config;       // recognizer: its options JSON (demo_ocr --config), e.g. data/models/codes_recognizer.json
  std::string saved_model;  // recognizer: its checkpoint (ours, packed, or the original's)
  std::string checkpoint;   // classifier: best.pt with its .json sidecar, instead of config + saved_model
  std::string output;       // the .onnx file, written atomically
  int opset = 17;           // 16 at least (GridSample)
};

struct OnnxExportSummary {
  std::string output;
  std::string model;        // "TPS-ResNet-BiLSTM-Attn", "classifier resnet152"
  std::size_t bytes = 0;
};

// The option checks alone: one of the two model kinds, an output, a supported opset.
void check_onnx_export_options(const OnnxExportOptions& options);

// Loads the model strictly, builds its graph, runs ONNX's checker with strict shape inference over it and
// writes it. Throws Error naming the file or the module that could not be exported.
OnnxExportSummary export_onnx(const OnnxExportOptions& options);

}  // namespace cargovision
