#pragma once
// The ONNX graphs of in-memory models (export_onnx in onnx_export.h loads them from files first). Each
// returns the serialised ModelProto, already accepted by ONNX's checker and strict shape inference; the
// model is put in eval mode.
//
// Recognizer: input "image" [batch, C, imgH, imgW] float, scaled to [-1, 1] as the original's AlignCollate
// does; outputs "logits" [batch, T, num_class] and "predicted_ids" [batch, T] int64 (the arg-max per step;
// T = the encoder's steps for CTC, batch_max_length + 1 for Attn). Metadata: "cargovision.model"
// ("recognizer"), "stages", "prediction", "classes" (JSON array: index -> token), "input" (JSON: channels,
// height, width, preprocessing), "decoding", "options" (the recognizer options as JSON).
// Classifier: input "image" [batch, 3, S, S] float, normalised as the metadata says; outputs "logit" [batch]
// and "probability" [batch] (sigmoid: of class 1). Metadata: "cargovision.model" ("classifier"), "backbone",
// "classes", "input" (JSON: size, resize, normalization with its mean/std), "threshold".

#include <string>

#include "cargovision/classify/checkpoint.h"
#include "cargovision/ocr/model.h"
#include "cargovision/ocr/options.h"

namespace cargovision {

std::string recognizer_onnx(ocr::OcrModel& model, const ocr::OcrRecognizerOptions& options, int opset = 17);

std::string classifier_onnx(CargoClassifier& model, const ClassifierSidecar& sidecar, int opset = 17);

}  // namespace cargovision
