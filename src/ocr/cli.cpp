#include "cargovision/ocr/cli.h"

#include "cargovision/models/fast_kernels.h"

namespace cargovision::ocr {
namespace {

// Options both apps share: the model's architecture, input geometry and labels.
template <typename Options>
void add_model_options(CLI::App& app, Options& o) {
  app.add_option("--batch_max_length", o.batch_max_length, "maximum label length")->capture_default_str();
  app.add_option("--imgH", o.imgH, "input height")->capture_default_str();
  app.add_option("--imgW", o.imgW, "input width")->capture_default_str();
  app.add_flag("--rgb", o.rgb, "RGB input (else grey)");
  app.add_option("--character", o.character, "character set (replaced by the 94 printable characters with --sensitive)")
      ->capture_default_str();
  app.add_flag("--sensitive", o.sensitive, "case-sensitive mode (the 94 printable ASCII characters)");
  app.add_flag("--PAD", o.PAD, "keep the aspect ratio and pad right instead of stretching");
  app.add_option("--Transformation", o.Transformation, "None | TPS")->capture_default_str();
  app.add_option("--FeatureExtraction", o.FeatureExtraction, "VGG | RCNN | ResNet")->capture_default_str();
  app.add_option("--SequenceModeling", o.SequenceModeling, "None | BiLSTM")->capture_default_str();
  app.add_option("--Prediction", o.Prediction, "CTC | Attn")->capture_default_str();
  app.add_option("--num_fiducial", o.num_fiducial, "TPS fiducial points")->capture_default_str();
  app.add_option("--input_channel", o.input_channel, "input channels (3 with --rgb)")->capture_default_str();
  app.add_option("--output_channel", o.output_channel, "feature extractor output channels")->capture_default_str();
  app.add_option("--hidden_size", o.hidden_size, "LSTM hidden size")->capture_default_str();
  app.add_option("--workers", o.workers, "image decoding threads")->capture_default_str();
  app.add_option("--batch_size", o.batch_size, "batch size")->capture_default_str();
  app.add_option("--device", o.device, "cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--kernels", o.kernels, models::kKernelsHelp)->capture_default_str();
  app.add_option("--threads", o.threads, "LibTorch compute threads (0 = OMP_NUM_THREADS if set, else one per core)")->capture_default_str();
  app.add_option("--log_level,--log-level", o.log_level, "trace, debug, info, warn, error")->capture_default_str();
}

}  // namespace

void add_ocr_train_options(CLI::App& app, OcrTrainOptions& o, std::string& config_file) {
  app.add_option("--config", config_file, "JSON file with any of the options below (same names); the command line wins");
  app.add_option("--exp_name", o.exp_name, "run name (default {Transformation}-{FeatureExtraction}-{SequenceModeling}-{Prediction}-Seed{manualSeed})");
  app.add_option("--saved_models_dir", o.saved_models_dir, "where runs go: <dir>/<exp_name>/")->capture_default_str();
  app.add_option("--train_data", o.train_data, "root of the training LMDBs (not needed when --select_data is only synth)");
  app.add_option("--valid_data", o.valid_data,
                 "root of the validation LMDBs, or synth:N[:SEED] for N generated crops (a fixed set per SEED)");
  app.add_option("--manualSeed", o.manualSeed, "random seed")->capture_default_str();
  app.add_option("--num_iter", o.num_iter, "iterations to train")->capture_default_str();
  app.add_option("--valInterval", o.valInterval, "validate every this many iterations")->capture_default_str();
  app.add_option("--saveInterval", o.saveInterval,
                 "also keep the weights as iter_<N>.pth every this many iterations (checkpoint averaging: "
                 "pack_ocr_model with several --saved_model)")->capture_default_str();
  app.add_option("--saved_model", o.saved_model, "checkpoint to resume (strict) or fine-tune (--FT)");
  app.add_flag("--FT", o.FT, "fine-tune: load --saved_model non-strictly and restart the iteration count");
  app.add_flag("--adam", o.adam, "Adam instead of Adadelta");
  app.add_option("--lr", o.lr, "learning rate (Adadelta default 1)")->capture_default_str();
  app.add_option("--beta1", o.beta1, "Adam beta1")->capture_default_str();
  app.add_option("--rho", o.rho, "Adadelta decay rate")->capture_default_str();
  app.add_option("--eps", o.eps, "Adadelta epsilon")->capture_default_str();
  app.add_option("--grad_clip", o.grad_clip, "gradient clipping (total norm)")->capture_default_str();
  app.add_option("--warmup_iter", o.warmup_iter, "linear learning-rate warm-up over this many iterations")
      ->capture_default_str();
  app.add_option("--lr_schedule", o.lr_schedule, "constant | cosine (decays to lr * final_lr_ratio at num_iter)")
      ->capture_default_str();
  app.add_option("--final_lr_ratio", o.final_lr_ratio, "the cosine schedule's last lr as a fraction of --lr")
      ->capture_default_str();
  app.add_option("--transformation_lr_ratio", o.transformation_lr_ratio,
                 "the TPS stage's learning rate as a fraction of --lr (Adam moves its grid too fast from scratch)")
      ->capture_default_str();
  app.add_option("--synth_curriculum", o.synth_curriculum,
                 "iterations over which 'synth' training crops ramp from clean to fully degraded (0 = degraded from the start)")
      ->capture_default_str();
  app.add_option("--select_data", o.select_data,
                 "'-'-separated LMDB selections under --train_data ('/' = all); 'synth' = endless generated code crops")
      ->capture_default_str();
  app.add_option("--batch_ratio", o.batch_ratio, "'-'-separated batch share of each selection")->capture_default_str();
  app.add_option("--total_data_usage_ratio", o.total_data_usage_ratio, "fraction of each selection used")
      ->capture_default_str();
  app.add_flag("--data_filtering_off", o.data_filtering_off, "keep samples with long labels or unknown characters");
  add_model_options(app, o);
}

void add_ocr_demo_options(CLI::App& app, OcrDemoOptions& o, std::string& config_file) {
  app.add_option("--config", config_file, "JSON file with any of the options below (same names); the command line wins");
  app.add_option("--image_folder", o.image_folder, "folder of crops (searched recursively, natural order)");
  app.add_option("--lmdb", o.lmdb, "read the crops of an LMDB (or a folder of LMDBs) instead; its labels are the GT");
  app.add_option("--gt", o.gt, "gt file (path<TAB>label) for the folder: adds GT, correctness, char accuracy, word accuracy");
  app.add_flag("--data_filtering_off", o.data_filtering_off,
               "score --gt as train_ocr validates with --data_filtering_off (with --sensitive: case-insensitive alphanumerics)");
  app.add_option("--saved_model", o.saved_model, "checkpoint (ours or the original's, same architecture options)");
  app.add_option("--output_dir", o.output_dir, "where demo_result.csv, log_demo_result.txt and report.html go")
      ->capture_default_str();
  app.add_flag("--report,!--no_report", o.report,
               "write report.html: every crop as read and as fed to the model, differences from --gt highlighted, "
               "errors first, a confidence-vs-errors table (default on)");
  app.add_option("--code_check", o.code_check,
                 "iso6346: a reading shaped like a container number (ABCU1234565) whose check digit fails is read again line "
                 "by line (numbers stacked over 2-3 lines), else replaced by the most probable reading that checks, where the "
                 "model's own probabilities allow it; none: as read (the original)")
      ->capture_default_str();
  app.add_option("--reread_below", o.reread_below,
                 "a crop read with less confidence is read again framed, turned and contrasted a little differently, "
                 "and the most confident reading kept (about 7 % of degraded crops; 0: off, as the original)")
      ->capture_default_str();
  add_model_options(app, o);
}

}  // namespace cargovision::ocr
