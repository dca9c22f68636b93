#include "cargovision/export/onnx_export.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "cargovision/core/atomic_file.h"
#include "cargovision/core/error.h"
#include "cargovision/export/onnx_models.h"
#include "cargovision/ocr/checkpoint.h"
#include "cargovision/ocr/converter.h"

namespace cargovision {
namespace fs = std::filesystem;

void check_onnx_export_options(const OnnxExportOptions& o) {
  const bool recognizer = !o.saved_model.empty() || !o.config.empty();
  const bool classifier = !o.checkpoint.empty();
  require(recognizer != classifier,
          "export_onnx: give either a recognizer (--config and --saved_model) or a classifier (--checkpoint best.pt)");
  require(classifier || (!o.config.empty() && !o.saved_model.empty()),
          "export_onnx: a recognizer needs both --config (its options JSON) and --saved_model");
  require(!o.output.empty(), "export_onnx: no --output file given");
  require(o.opset >= 16 && o.opset <= 17, "export_onnx: --opset {} is not supported (16 or 17: GridSample needs 16, "
          "ReduceMean's axes attribute ends at 17)", o.opset);
}

OnnxExportSummary export_onnx(const OnnxExportOptions& options) {
  check_onnx_export_options(options);
  OnnxExportSummary summary;
  summary.output = options.output;
  std::string bytes;
  if (!options.checkpoint.empty()) {
    LoadedClassifier loaded = load_classifier_checkpoint(options.checkpoint);
    summary.model = "classifier " + loaded.model->backbone_name();
    bytes = classifier_onnx(loaded.model, loaded.sidecar, options.opset);
  } else {
    require(fs::is_regular_file(options.config), "{}: no such options file", options.config);
    ocr::OcrDemoOptions recognizer = ocr::load_ocr_demo_options(options.config);
    recognizer.saved_model = options.saved_model;
    ocr::finalize(static_cast<ocr::OcrRecognizerOptions&>(recognizer));
    const auto converter = ocr::make_converter(recognizer.Prediction, recognizer.character);
    ocr::OcrModel model(ocr::model_options(recognizer, converter->num_class()));
    ocr::load_ocr_checkpoint(*model, options.saved_model, /*fine_tune=*/false);
    summary.model = ocr::stage_name(model->options());
    bytes = recognizer_onnx(model, recognizer, options.opset);
  }
  const fs::path parent = fs::path(options.output).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  write_file_atomically(options.output, bytes);
  summary.bytes = bytes.size();
  return summary;
}

}  // namespace cargovision
