// export_onnx: writes a recognizer (any of the 24 stage combinations, TPS and the attention decoder included)
// or a cargo classifier as an ONNX file for onnxruntime, TensorRT or OpenCV's DNN module.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "cargovision/core/app.h"
#include "cargovision/core/logging.h"
#include "cargovision/export/onnx_export.h"

int main(int argc, char** argv) {
  return cargovision::run_guarded([&] {
    cargovision::OnnxExportOptions options;
    std::string log_level = "info";
    CLI::App app{
        "Export a model to ONNX (opset 17, dynamic batch size). Recognizer: --config <options.json> --saved_model "
        "<checkpoint>; input 'image' [batch, C, imgH, imgW] scaled to [-1, 1], outputs 'logits' [batch, T, "
        "num_class] and 'predicted_ids' [batch, T]. Classifier: --checkpoint best.pt; input 'image' [batch, 3, S, S] "
        "normalised as in training, outputs 'logit' and 'probability' [batch]. The file's metadata holds the "
        "character set, the preprocessing and the decoding rule. Example: export_onnx --config "
        "data/models/codes_recognizer.json --saved_model data/models/codes_recognizer.pth --output codes.onnx"};
    app.add_option("--config", options.config,
                   "recognizer: options JSON with its architecture and alphabet (as demo_ocr --config takes)");
    app.add_option("--saved_model", options.saved_model, "recognizer: checkpoint (ours, packed or the original's)");
    app.add_option("--checkpoint", options.checkpoint, "classifier: checkpoint written by preprocess (best.pt + .json)");
    app.add_option("--output", options.output, "the .onnx file to write")->required();
    app.add_option("--opset", options.opset, "ONNX opset (16 or 17)")->capture_default_str();
    app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    cargovision::setup_logging(log_level, "");
    const auto summary = cargovision::export_onnx(options);
    spdlog::info("wrote {} ({}, {:.1f} MB), checked by ONNX's checker", summary.output, summary.model,
                 summary.bytes / 1e6);
    return 0;
  });
}
