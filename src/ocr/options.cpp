#include "cargovision/ocr/options.h"

#include <fmt/format.h>

#include <algorithm>

#include "cargovision/core/error.h"
#include "cargovision/io/json_file.h"
#include "cargovision/models/fast_kernels.h"
#include "cargovision/ocr/code_check.h"
#include "cargovision/ocr/converter.h"
#include "cargovision/ocr/synthetic_codes.h"

namespace cargovision::ocr {
namespace {

// Every field once, in the original's argument order: JSON (both ways) and opt.txt follow it.
template <typename Options, typename Visitor>
void visit_model_fields(Options& o, Visitor&& visit) {
  visit("batch_max_length", o.batch_max_length);
  visit("imgH", o.imgH);
  visit("imgW", o.imgW);
  visit("rgb", o.rgb);
  visit("character", o.character);
  visit("sensitive", o.sensitive);
  visit("PAD", o.PAD);
}

template <typename Options, typename Visitor>
void visit_stage_fields(Options& o, Visitor&& visit) {
  visit("Transformation", o.Transformation);
  visit("FeatureExtraction", o.FeatureExtraction);
  visit("SequenceModeling", o.SequenceModeling);
  visit("Prediction", o.Prediction);
  visit("num_fiducial", o.num_fiducial);
  visit("input_channel", o.input_channel);
  visit("output_channel", o.output_channel);
  visit("hidden_size", o.hidden_size);
  visit("device", o.device);
  visit("kernels", o.kernels);
  visit("threads", o.threads);
  visit("log_level", o.log_level);
}

template <typename Visitor>
void visit_train_fields(OcrTrainOptions& o, Visitor&& visit) {
  visit("exp_name", o.exp_name);
  visit("train_data", o.train_data);
  visit("valid_data", o.valid_data);
  visit("manualSeed", o.manualSeed);
  visit("workers", o.workers);
  visit("batch_size", o.batch_size);
  visit("num_iter", o.num_iter);
  visit("valInterval", o.valInterval);
  visit("saveInterval", o.saveInterval);
  visit("saved_model", o.saved_model);
  visit("FT", o.FT);
  visit("adam", o.adam);
  visit("lr", o.lr);
  visit("beta1", o.beta1);
  visit("rho", o.rho);
  visit("eps", o.eps);
  visit("grad_clip", o.grad_clip);
  visit("warmup_iter", o.warmup_iter);
  visit("lr_schedule", o.lr_schedule);
  visit("final_lr_ratio", o.final_lr_ratio);
  visit("synth_curriculum", o.synth_curriculum);
  visit("transformation_lr_ratio", o.transformation_lr_ratio);
  visit("select_data", o.select_data);
  visit("batch_ratio", o.batch_ratio);
  visit("total_data_usage_ratio", o.total_data_usage_ratio);
  visit_model_fields(o, visit);
  visit("data_filtering_off", o.data_filtering_off);
  visit_stage_fields(o, visit);
  visit("saved_models_dir", o.saved_models_dir);
}

template <typename Visitor>
void visit_demo_fields(OcrDemoOptions& o, Visitor&& visit) {
  visit("image_folder", o.image_folder);
  visit("lmdb", o.lmdb);
  visit("gt", o.gt);
  visit("data_filtering_off", o.data_filtering_off);
  visit("saved_model", o.saved_model);
  visit("output_dir", o.output_dir);
  visit("report", o.report);
  visit("code_check", o.code_check);
  visit("reread_below", o.reread_below);
  visit("workers", o.workers);
  visit("batch_size", o.batch_size);
  visit_model_fields(o, visit);
  visit_stage_fields(o, visit);
}

template <typename Visitor>
void visit_all(OcrTrainOptions& o, Visitor&& visit) { visit_train_fields(o, visit); }
template <typename Visitor>
void visit_all(OcrDemoOptions& o, Visitor&& visit) { visit_demo_fields(o, visit); }

template <typename Json, typename Options>
void write_json(Json& j, const Options& options) {
  j = Json::object();
  visit_all(const_cast<Options&>(options), [&](const char* key, auto& value) { j[key] = value; });
}

template <typename Options>
void read_json(const nlohmann::json& j, Options& options) {
  visit_all(options, [&](const char* key, auto& value) {
    if (j.contains(key)) j.at(key).get_to(value);
  });
}

void check_stages(const std::string& t, const std::string& f, const std::string& s, const std::string& p) {
  require(t == "None" || t == "TPS", "unknown --Transformation '{}' (valid: None, TPS)", t);
  require(f == "VGG" || f == "RCNN" || f == "ResNet", "unknown --FeatureExtraction '{}' (valid: VGG, RCNN, ResNet)", f);
  require(s == "None" || s == "BiLSTM", "unknown --SequenceModeling '{}' (valid: None, BiLSTM)", s);
  require(p == "CTC" || p == "Attn", "unknown --Prediction '{}' (valid: CTC, Attn)", p);
}

}  // namespace

void finalize(OcrRecognizerOptions& o) {
  if (o.sensitive) o.character = kSensitiveCharacters;  // string.printable[:-6], as the original
  if (o.rgb) o.input_channel = 3;
  // The crops are read as grey (1 channel) or, with --rgb, colour (3): no other count can be fed.
  require(o.input_channel == (o.rgb ? 3 : 1), "--input_channel {} does not match the {} crops: {}", o.input_channel,
          o.rgb ? "colour" : "grey", o.input_channel == 3 ? "add --rgb to read colour crops" : "leave --input_channel at 1 (3 with --rgb)");
  check_stages(o.Transformation, o.FeatureExtraction, o.SequenceModeling, o.Prediction);
  check_character_set(o.character);
  require(o.batch_max_length > 0, "--batch_max_length must be positive, got {}", o.batch_max_length);
  require(o.imgH >= 8 && o.imgW >= 8, "--imgH {} x --imgW {} is too small", o.imgH, o.imgW);
  require(o.batch_size > 0, "--batch_size must be positive, got {}", o.batch_size);
  require(o.workers >= 0, "--workers must not be negative, got {}", o.workers);
  models::check_kernels_name(o.kernels);
}

namespace {

OcrDataOptions common_data_options(const OcrRecognizerOptions& o) {
  OcrDataOptions data;
  data.batch_size = o.batch_size;
  data.batch_max_length = o.batch_max_length;
  data.imgH = o.imgH;
  data.imgW = o.imgW;
  data.rgb = o.rgb;
  data.character = o.character;
  data.sensitive = o.sensitive;
  data.PAD = o.PAD;
  data.workers = o.workers;
  return data;
}

OcrModelOptions common_model_options(const OcrRecognizerOptions& o, int64_t num_class) {
  OcrModelOptions model;
  model.Transformation = o.Transformation;
  model.FeatureExtraction = o.FeatureExtraction;
  model.SequenceModeling = o.SequenceModeling;
  model.Prediction = o.Prediction;
  model.num_fiducial = o.num_fiducial;
  model.imgH = o.imgH;
  model.imgW = o.imgW;
  model.input_channel = o.input_channel;
  model.output_channel = o.output_channel;
  model.hidden_size = o.hidden_size;
  model.num_class = num_class;
  model.batch_max_length = o.batch_max_length;
  return model;
}

}  // namespace

void to_json(nlohmann::json& j, const OcrTrainOptions& o) { write_json(j, o); }
void from_json(const nlohmann::json& j, OcrTrainOptions& o) { read_json(j, o); }
void to_json(nlohmann::json& j, const OcrDemoOptions& o) { write_json(j, o); }
void from_json(const nlohmann::json& j, OcrDemoOptions& o) { read_json(j, o); }

namespace {

// A run's options.json records what the run derived besides what it was given (the class count of its
// character set, the number of processes): facts, not options. Either app takes that file as --config
// to reproduce or read the run, so the recorded facts are dropped rather than called unknown.
nlohmann::json read_options_without_run_facts(const std::string& path) {
  nlohmann::json given = read_json_file(path);
  if (given.is_object()) {
    for (const char* fact : {"num_class", "world_size"}) given.erase(fact);
  }
  return given;
}

}  // namespace

OcrTrainOptions load_ocr_train_options(const std::string& path) {
  return parse_options<OcrTrainOptions>(read_options_without_run_facts(path), path);
}

// A training config also drives the demo (same architecture keys); its training-only keys are ignored
// here, while a key neither app knows is still an error.
OcrDemoOptions load_ocr_demo_options(const std::string& path) {
  const nlohmann::json given = read_options_without_run_facts(path);
  const nlohmann::json demo_keys = OcrDemoOptions{};
  nlohmann::json known = OcrTrainOptions{};
  known.update(demo_keys);
  check_known_keys(given, known, path);
  nlohmann::json demo_only = nlohmann::json::object();
  for (const auto& [key, value] : given.items()) {
    if (demo_keys.contains(key)) demo_only[key] = value;
  }
  try {
    return demo_only.get<OcrDemoOptions>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": invalid option value (" + std::string(e.what()) + ")");
  }
}

void finalize(OcrTrainOptions& o) {
  finalize(static_cast<OcrRecognizerOptions&>(o));
  const auto selections = split_dashes(o.select_data);
  const bool only_generated = std::all_of(selections.begin(), selections.end(),
                                          [](const std::string& name) { return name == kSyntheticSelection; });
  require(!o.train_data.empty() || only_generated,
          "--train_data is required (only --select_data synth trains without LMDBs)");
  require(!o.valid_data.empty(), "--valid_data is required");
  require(o.saveInterval > 0, "--saveInterval must be positive, got {}", o.saveInterval);
  require(o.num_iter > 0 && o.valInterval > 0, "--num_iter and --valInterval must be positive, got {} and {}",
          o.num_iter, o.valInterval);
  require(o.grad_clip > 0, "--grad_clip must be positive, got {}", o.grad_clip);
  require(o.warmup_iter >= 0, "--warmup_iter must not be negative, got {}", o.warmup_iter);
  require(o.lr_schedule == "constant" || o.lr_schedule == "cosine",
          "unknown --lr_schedule '{}' (valid: constant, cosine)", o.lr_schedule);
  require(o.synth_curriculum >= 0, "--synth_curriculum must not be negative, got {}", o.synth_curriculum);
  require(o.transformation_lr_ratio >= 0 && o.transformation_lr_ratio <= 1,
          "--transformation_lr_ratio must be in [0, 1], got {}", o.transformation_lr_ratio);
  require(o.final_lr_ratio >= 0 && o.final_lr_ratio <= 1, "--final_lr_ratio must be in [0, 1], got {}", o.final_lr_ratio);
  if (o.exp_name.empty()) {
    o.exp_name = fmt::format("{}-{}-{}-{}-Seed{}", o.Transformation, o.FeatureExtraction, o.SequenceModeling,
                             o.Prediction, o.manualSeed);
  }
}

void finalize(OcrDemoOptions& o) {
  finalize(static_cast<OcrRecognizerOptions&>(o));
  require(o.reread_below >= 0.0 && o.reread_below <= 1.0, "--reread_below must be a confidence in [0, 1], got {}",
          o.reread_below);
  require(!o.saved_model.empty(), "--saved_model is required");
  require(o.image_folder.empty() != o.lmdb.empty(), "give exactly one of --image_folder and --lmdb");
  parse_code_check(o.code_check);
}

OcrDataOptions data_options(const OcrTrainOptions& o) {
  OcrDataOptions data = common_data_options(o);
  data.train_data = o.train_data;
  data.valid_data = o.valid_data;
  data.select_data = o.select_data;
  data.batch_ratio = o.batch_ratio;
  data.total_data_usage_ratio = o.total_data_usage_ratio;
  data.data_filtering_off = o.data_filtering_off;
  data.synth_curriculum = o.synth_curriculum;
  return data;
}

OcrDataOptions data_options(const OcrDemoOptions& o) {
  OcrDataOptions data = common_data_options(o);
  data.data_filtering_off = true;  // the demo reads every crop
  return data;
}

OcrModelOptions model_options(const OcrTrainOptions& o, int64_t num_class) { return common_model_options(o, num_class); }
OcrModelOptions model_options(const OcrDemoOptions& o, int64_t num_class) { return common_model_options(o, num_class); }

std::string options_text(const OcrTrainOptions& options, int64_t num_class) {
  nlohmann::ordered_json ordered;
  write_json(ordered, options);
  ordered["num_class"] = num_class;
  std::string text = "------------ Options -------------\n";
  for (const auto& [key, value] : ordered.items()) {
    text += key + ": " + (value.is_string() ? value.get<std::string>() : value.dump()) + "\n";
  }
  return text + "---------------------------------------\n";
}

}  // namespace cargovision::ocr
