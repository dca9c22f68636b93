#pragma once
// Options of train_ocr and demo_ocr under the original train.py / demo.py names, so commands and
// configs carry over. Each can come from a JSON config (same keys) and the command line.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "cargovision/ocr/data_options.h"
#include "cargovision/ocr/model_options.h"

namespace cargovision::ocr {

// What train_ocr and demo_ocr share: batching, the input, the label alphabet and the architecture.
struct OcrRecognizerOptions {
  int workers = 2;                       // image decoding threads
  int batch_size = 192;
  int batch_max_length = 25;
  int imgH = 32;
  int imgW = 100;
  bool rgb = false;
  std::string character = kCaseInsensitiveCharacters;
  bool sensitive = false;                // also selects the 94 printable characters, as the original
  bool PAD = false;
  std::string Transformation = "TPS";
  std::string FeatureExtraction = "ResNet";
  std::string SequenceModeling = "BiLSTM";
  std::string Prediction = "Attn";
  int num_fiducial = 20;
  int input_channel = 1;
  int output_channel = 512;
  int hidden_size = 256;
  std::string device = "cpu";
  std::string kernels = "fast";          // fast (oneDNN on the CPU) | libtorch (PyTorch's arithmetic exactly)
  int threads = 0;
  std::string log_level = "info";
};

struct OcrTrainOptions : OcrRecognizerOptions {
  std::string exp_name;                  // default {T}-{F}-{S}-{P}-Seed{manualSeed}
  std::string train_data;                // root of the LMDBs; may be empty when select_data is only "synth"
  std::string valid_data;                // root of the validation LMDBs, or "synth:N[:SEED]"
  std::uint32_t manualSeed = 1111;
  int num_iter = 300000;
  int valInterval = 2000;
  int saveInterval = 100000;             // keep iter_{N}.pth every this many iterations (the original's fixed 1e5)
  std::string saved_model;               // checkpoint to continue from or fine-tune
  bool FT = false;                       // fine-tune: load non-strictly, restart the iteration count
  bool adam = false;                     // Adam instead of Adadelta
  double lr = 1.0;
  double beta1 = 0.9;
  double rho = 0.95;
  double eps = 1e-8;
  double grad_clip = 5.0;
  // Ours: a learning-rate schedule for training from scratch (the original keeps lr constant).
  int warmup_iter = 0;                   // linear warm-up from lr/100 to lr over this many iterations
  std::string lr_schedule = "constant";  // constant | cosine (to lr * final_lr_ratio at num_iter)
  double final_lr_ratio = 0.01;
  int synth_curriculum = 0;              // iterations over which "synth" crops ramp from clean to fully degraded
  double transformation_lr_ratio = 1.0;  // the Transformation stage's lr as a fraction of lr (TPS under Adam)
  std::string select_data = "MJ-ST";
  std::string batch_ratio = "0.5-0.5";
  double total_data_usage_ratio = 1.0;
  bool data_filtering_off = false;
  std::string saved_models_dir = "saved_models";  // runs go to <saved_models_dir>/<exp_name>/
};

struct OcrDemoOptions : OcrRecognizerOptions {
  std::string image_folder;
  std::string lmdb;                      // read the crops of an LMDB instead of a folder
  std::string gt;                        // optional gt file (path<TAB>label) for accuracy
  bool data_filtering_off = false;       // score --gt as validation does under train_ocr --data_filtering_off
  std::string saved_model;
  std::string output_dir = ".";          // demo_result.csv, log_demo_result.txt, report.html
  bool report = true;                    // write report.html (every crop, errors first)
  std::string code_check = "iso6346";    // repair readings shaped like container numbers by their check digit; "none"
  double reread_below = 0.6;             // read a crop below this confidence again in variants (ocr/reread.h); 0: off
};

void to_json(nlohmann::json& j, const OcrTrainOptions& o);
void from_json(const nlohmann::json& j, OcrTrainOptions& o);
void to_json(nlohmann::json& j, const OcrDemoOptions& o);
void from_json(const nlohmann::json& j, OcrDemoOptions& o);

OcrTrainOptions load_ocr_train_options(const std::string& path);
OcrDemoOptions load_ocr_demo_options(const std::string& path);

// The derived values and checks every recognizer needs (character set under `sensitive`, channels,
// stages, sizes), without a run's inputs: what a library user loading a model calls.
void finalize(OcrRecognizerOptions& options);

// What the original derives after parsing: the 94-character set under `sensitive`, input_channel 3
// under `rgb`, the default exp_name. Then checks values (stage names, sizes, character set).
void finalize(OcrTrainOptions& options);
void finalize(OcrDemoOptions& options);

OcrDataOptions data_options(const OcrTrainOptions& options);
OcrDataOptions data_options(const OcrDemoOptions& options);
OcrModelOptions model_options(const OcrTrainOptions& options, int64_t num_class);
OcrModelOptions model_options(const OcrDemoOptions& options, int64_t num_class);

// The original's opt.txt: "------------ Options -------------", "key: value" per option in argument
// order (num_class last), a dashed line.
std::string options_text(const OcrTrainOptions& options, int64_t num_class);

}  // namespace cargovision::ocr
