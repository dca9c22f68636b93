// The recognizer as one ONNX graph: TPS (localisation network, the thin-plate-spline grid as two matrix
// products, GridSample), the feature extractor, the height pooling, the BiLSTMs and the CTC or attention head.
#include <nlohmann/json.hpp>

#include "cargovision/export/onnx_models.h"
#include "cargovision_build_config.h"
#include "cargovision/ocr/text.h"
#include "module_emitter.h"

namespace cargovision {
namespace {

using onnx_export::Attributes;
using onnx_export::ElementType;
using onnx_export::GraphBuilder;
using onnx_export::ModuleEmitter;

std::string rectified(ModuleEmitter& emit, ocr::TpsSpatialTransformerImpl& tps, const ocr::OcrModelOptions& o,
                      const std::string& image) {
  GraphBuilder& g = emit.graph();
  auto& localization = *tps.localization;
  const std::string prefix = "Transformation.LocalizationNetwork";
  auto f = emit.module(*localization.conv, prefix + ".conv", image);  // [B, 512, 1, 1]
  f = g.node("Flatten", {f}, {{"axis", int64_t{1}}});
  f = emit.module(*localization.localization_fc1, prefix + ".localization_fc1", f);
  f = emit.linear(*localization.localization_fc2, prefix + ".localization_fc2", f);
  const auto fiducials = g.node("Reshape", {f, g.int64s("fiducials_shape", {0, o.num_fiducial, 2})}, {}, "fiducials");
  // [C'; 0 0 0] -> T = inv(delta_C) [C'; 0] -> P' = P_hat T: the original's two batched products, broadcast.
  const auto padded = g.node("Pad", {fiducials, g.int64s("fiducials_pads", {0, 0, 0, 0, 3, 0})});
  auto& grid = *tps.grid_generator;
  const auto transform =
      g.node("MatMul", {g.initializer("Transformation.GridGenerator.inv_delta_C", grid.inv_delta_C), padded});
  const auto points = g.node("MatMul", {g.initializer("Transformation.GridGenerator.P_hat", grid.P_hat), transform});
  const auto sampling_grid =
      g.node("Reshape", {points, g.int64s("grid_shape", {0, o.imgH, o.imgW, 2})}, {}, "sampling_grid");
  return g.node("GridSample", {image, sampling_grid},
                {{"mode", std::string("bilinear")}, {"padding_mode", std::string("border")}, {"align_corners", int64_t{1}}},
                "rectified");
}

// The greedy decoder, its steps unrolled: [GO] first, then each step's arg-max as the next step's input.
// The one-hot input's product with the LSTM cell's weights is a row lookup (Gather), the same sum without
// the zeros.
std::string attention_decoder(ModuleEmitter& emit, ocr::AttentionImpl& attention, const std::string& features,
                              int64_t input_size, int64_t hidden_size, int64_t steps) {
  GraphBuilder& g = emit.graph();
  auto& cell = *attention.attention_cell;
  const std::string at = "Prediction.attention_cell";
  const auto& w_ih = cell.rnn->weight_ih;  // [4H, input_size + num_class]
  const auto context_weight = g.initializer(at + ".rnn.weight_ih_context_t", w_ih.slice(1, 0, input_size).t());
  const auto class_weight = g.initializer(at + ".rnn.weight_ih_class_t", w_ih.slice(1, input_size).t());
  const auto hidden_weight = g.initializer(at + ".rnn.weight_hh_t", cell.rnn->weight_hh.t());
  const auto gate_bias = g.initializer(at + ".rnn.bias_ih_plus_hh", cell.rnn->bias_ih + cell.rnn->bias_hh);
  const auto projected = emit.linear(*cell.i2h, at + ".i2h", features);  // once per sequence

  const auto batch = g.node("Slice", {g.node("Shape", {features}), g.int64s("first", {0}), g.int64s("second", {1})}, {},
                            "batch_size");
  const auto state_shape = g.node("Concat", {batch, g.int64s("hidden_size", {hidden_size})}, {{"axis", int64_t{0}}});
  const auto zeros = g.initializer("zero_state", torch::zeros({1, hidden_size}));
  std::string h = g.node("Expand", {zeros, state_shape}, {}, "h0");
  std::string c = g.node("Expand", {zeros, state_shape}, {}, "c0");
  std::string previous = g.node("Expand", {g.int64s("go_token", {0}), batch}, {}, "go");
  const auto axis1 = g.int64s("axis_1", {1});

  std::vector<std::string> step_logits;
  for (int64_t step = 0; step < steps; ++step) {
    const std::string s = "step" + std::to_string(step);
    const auto hidden_projection = g.node("Unsqueeze", {emit.linear(*cell.h2h, at + ".h2h", h), axis1});
    const auto energy = emit.linear(*cell.score, at + ".score", g.node("Tanh", {emit.add(projected, hidden_projection)}));
    const auto alpha = g.node("Softmax", {energy}, {{"axis", int64_t{1}}}, s + "/alpha");  // [B, T, 1]
    const auto context = g.node(
        "Squeeze", {g.node("MatMul", {g.node("Transpose", {alpha}, {{"perm", std::vector<int64_t>{0, 2, 1}}}), features}),
                    axis1});
    auto gates = emit.add(g.node("MatMul", {context, context_weight}),
                          g.node("Gather", {class_weight, previous}, {{"axis", int64_t{0}}}));
    gates = emit.add(emit.add(gates, g.node("MatMul", {h, hidden_weight})), gate_bias);
    const auto parts = g.node("Split", {gates}, 4, {{"axis", int64_t{1}}}, s + "/gates");  // i f g o
    c = emit.add(g.node("Mul", {g.node("Sigmoid", {parts[1]}), c}),
                 g.node("Mul", {g.node("Sigmoid", {parts[0]}), g.node("Tanh", {parts[2]})}));
    h = g.node("Mul", {g.node("Sigmoid", {parts[3]}), g.node("Tanh", {c})}, {}, s + "/h");
    const auto logits = emit.linear(*attention.generator, "Prediction.generator", h);
    previous = g.node("ArgMax", {logits}, {{"axis", int64_t{1}}, {"keepdims", int64_t{0}}}, s + "/argmax");
    step_logits.push_back(g.node("Unsqueeze", {logits, axis1}));
  }
  return g.node("Concat", step_logits, {{"axis", int64_t{1}}}, "attention_logits");
}

nlohmann::json class_tokens(const ocr::OcrRecognizerOptions& options) {
  nlohmann::json tokens = options.Prediction == "CTC" ? nlohmann::json{"[CTCblank]"} : nlohmann::json{"[GO]", "[s]"};
  for (const char32_t c : ocr::decode_utf8(options.character, "character")) tokens.push_back(ocr::encode_utf8(std::u32string(1, c)));
  return tokens;
}

}  // namespace

std::string recognizer_onnx(ocr::OcrModel& model, const ocr::OcrRecognizerOptions& options, int opset) {
  const ocr::OcrModelOptions& o = model->options();
  const nlohmann::json tokens = class_tokens(options);
  TORCH_CHECK(static_cast<int64_t>(tokens.size()) == o.num_class, "the character set gives ", tokens.size(),
              " classes but the model has ", o.num_class);
  model->eval();
  torch::NoGradGuard no_grad;
  GraphBuilder g(ocr::stage_name(o));
  ModuleEmitter emit(g);
  g.input("image", ElementType::kFloat, {"batch", std::to_string(o.input_channel), std::to_string(o.imgH), std::to_string(o.imgW)});

  std::string x = "image";
  if (model->transformation) x = rectified(emit, *model->transformation, o, x);
  auto features = emit.module(*model->feature_extraction, "FeatureExtraction", x);  // [B, C, h, w]
  features = g.node("Transpose", {features}, {{"perm", std::vector<int64_t>{0, 3, 1, 2}}});
  features = g.node("ReduceMean", {features}, {{"axes", std::vector<int64_t>{3}}, {"keepdims", int64_t{0}}}, "visual_features");
  int64_t feature_size = o.output_channel;
  if (model->sequence_modeling) {
    features = emit.module(*model->sequence_modeling, "SequenceModeling", features);
    feature_size = o.hidden_size;
  }
  std::string logits;
  int64_t steps = 0;
  if (model->ctc_prediction) {
    logits = emit.linear(*model->ctc_prediction, "Prediction", features);
    steps = model->sequence_length();
  } else {
    steps = o.batch_max_length + 1;
    logits = attention_decoder(emit, *model->attention_prediction, features, feature_size, o.hidden_size, steps);
  }
  const auto ids = g.node("ArgMax", {logits}, {{"axis", int64_t{2}}, {"keepdims", int64_t{0}}});
  g.output(logits, "logits", ElementType::kFloat, {"batch", std::to_string(steps), std::to_string(o.num_class)});
  g.output(ids, "predicted_ids", ElementType::kInt64, {"batch", std::to_string(steps)});

  g.metadata("cargovision.model", "recognizer");
  g.metadata("stages", ocr::stage_name(o));
  g.metadata("prediction", o.Prediction);
  g.metadata("classes", tokens.dump());
  g.metadata("input", nlohmann::json{{"channels", o.input_channel},
                                     {"height", o.imgH},
                                     {"width", o.imgW},
                                     {"preprocessing", std::string(options.rgb ? "RGB" : "grey (Pillow's convert('L'))") +
                                                           (options.PAD ? ", resized (bicubic) to the height keeping the "
                                                                          "aspect ratio, padded right by repeating the last column"
                                                                        : ", resized (bicubic) to width x height") +
                                                           ", pixel / 255, then (x - 0.5) / 0.5"}}
                          .dump());
  g.metadata("decoding", o.Prediction == "CTC"
                             ? "predicted_ids per step: merge repeats, drop index 0 ([CTCblank]); confidence: product over "
                               "all steps of the maximum softmax probability"
                             : "predicted_ids per step: cut before the first index 1 ([s]); confidence: product of the "
                               "maximum softmax probabilities of the steps before [s]");
  // demo_ocr's default check of container numbers needs the crop again (a stacked number is re-read line by
  // line), so it stays outside the graph; a consumer who wants demo_ocr's readings applies it after.
  g.metadata("postprocessing",
             "demo_ocr (--code_check iso6346, its default) and CodeRecognizer check readings shaped like an ISO 6346 "
             "container number (3 letters, U/J/Z, 6 digits, check digit): one whose check digit fails is read again "
             "in horizontal bands (two lines cut around the middle, or thirds) and the most confident band reading "
             "that checks replaces it; otherwise the most probable reading under the per-step softmax of `logits` "
             "that checks, if at most 1e4 times less probable. Without it (--code_check none) the decoded "
             "predicted_ids are demo_ocr's readings");
  const nlohmann::json recorded = {{"Transformation", o.Transformation}, {"FeatureExtraction", o.FeatureExtraction},
              {"SequenceModeling", o.SequenceModeling}, {"Prediction", o.Prediction},
              {"num_fiducial", o.num_fiducial}, {"input_channel", o.input_channel},
              {"output_channel", o.output_channel}, {"hidden_size", o.hidden_size},
              {"imgH", o.imgH}, {"imgW", o.imgW}, {"rgb", options.rgb}, {"PAD", options.PAD},
              {"sensitive", options.sensitive}, {"character", options.character},
              {"batch_max_length", o.batch_max_length}};
  g.metadata("options", recorded.dump());
  return g.serialize(opset, CARGOVISION_VERSION_STRING);
}

}  // namespace cargovision
