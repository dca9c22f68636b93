#include "cargovision/ocr/trainer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "cargovision/core/atomic_file.h"
#include "cargovision/core/device.h"
#include "cargovision/core/error.h"
#include "cargovision/core/interrupt.h"
#include "cargovision/core/progress.h"
#include "cargovision/distributed/data_parallel.h"
#include "cargovision/io/checkpoint_sidecar.h"
#include "cargovision/io/json_file.h"
#include "cargovision/models/fast_kernels.h"
#include "cargovision/ocr/batch_loader.h"
#include "cargovision/ocr/checkpoint.h"
#include "cargovision/ocr/converter.h"
#include "cargovision/ocr/model.h"
#include "cargovision/ocr/recognize.h"
#include "cargovision/ocr/training_curves.h"
#include "cargovision/train/adadelta.h"
#include "cargovision/train/optimizer_state.h"

namespace cargovision::ocr {
namespace fs = std::filesystem;
namespace {

void append_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::app);
  require(static_cast<bool>(out), "{}: cannot write", file.string());
  out << text;
}

// Adadelta (the original's default) or Adam over the trainable parameters; both save their state
// beside latest.pth so a resumed run continues with the same moments. With a transformation_lr_ratio
// below 1 the Transformation stage is a second parameter group at that fraction of the rate: Adam's
// steps do not shrink with the gradient, and the TPS grid, fed by 256 large activations, then jumps
// to degenerate shapes (measured: fiducials up to 4x outside the image after 500 iterations at 1e-3).
class OcrOptimizer {
 public:
  OcrOptimizer(const OcrTrainOptions& o, const std::vector<torch::Tensor>& stages,
               const std::vector<torch::Tensor>& transformation)
      : transformation_ratio_(o.transformation_lr_ratio) {
    std::vector<torch::optim::OptimizerParamGroup> groups;
    const bool separate = transformation_ratio_ < 1.0 && !transformation.empty();
    std::vector<torch::Tensor> first = stages;
    if (!separate) first.insert(first.end(), transformation.begin(), transformation.end());
    if (o.adam) {
      const auto adam = torch::optim::AdamOptions(o.lr).betas({o.beta1, 0.999});
      groups.emplace_back(first, std::make_unique<torch::optim::AdamOptions>(adam));
      if (separate) groups.emplace_back(transformation, std::make_unique<torch::optim::AdamOptions>(adam));
      optimizer_ = std::make_unique<torch::optim::Adam>(groups, adam);
    } else {
      const auto adadelta = AdadeltaOptions(o.lr).rho(o.rho).eps(o.eps);
      groups.emplace_back(first, std::make_unique<AdadeltaOptions>(adadelta));
      if (separate) groups.emplace_back(transformation, std::make_unique<AdadeltaOptions>(adadelta));
      optimizer_ = std::make_unique<Adadelta>(groups, adadelta);
    }
    set_lr(o.lr);
  }
  void step() { optimizer_->step(); }
  void set_lr(double lr) {
    auto& groups = optimizer_->param_groups();
    for (std::size_t g = 0; g < groups.size(); ++g) groups[g].options().set_lr(g == 0 ? lr : lr * transformation_ratio_);
  }
  void save(const fs::path& path) const { save_optimizer_state(*optimizer_, path); }
  void load(const fs::path& path) {
    try {
      load_optimizer_state(*optimizer_, path);
    } catch (const Error& e) {
      throw Error(fmt::format("{}; resume with --FT to start it afresh", e.what()));
    }
  }

 private:
  double transformation_ratio_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

// The optimizer state saved beside a checkpoint.
fs::path optimizer_state_path(const std::string& checkpoint) { return checkpoint + ".optim"; }

double sidecar_number(const fs::path& sidecar, const char* key, double fallback) {
  if (!fs::exists(sidecar)) return fallback;
  try {
    // The sidecar of X.pth is X.pth.json.
    const std::string weights = sidecar.string().substr(0, sidecar.string().size() - 5);
    const auto json = read_checkpoint_sidecar(sidecar.string(), weights);
    return json.contains(key) && json.at(key).is_number() ? json.at(key).get<double>() : fallback;
  } catch (const Error& e) {
    spdlog::warn("{} (its score is not used)", e.what());
    return fallback;
  }
}

// The original's block after each validation: losses, current and best metrics, five predictions.
std::string validation_log(int iteration, const OcrTrainOptions& o, double train_loss, const ValidationResult& v,
                           double elapsed, double best_accuracy, double best_norm_ed) {
  std::string text = fmt::format("[{}/{}] Train loss: {:0.5f}, Valid loss: {:0.5f}, Elapsed_time: {:0.5f}\n", iteration,
                                 o.num_iter, train_loss, v.loss, elapsed);
  text += fmt::format("{:17s}: {:0.3f}, {:17s}: {:0.2f}\n", "Current_accuracy", v.accuracy, "Current_norm_ED", v.norm_ED);
  text += fmt::format("{:17s}: {:0.3f}, {:17s}: {:0.2f}\n", "Best_accuracy", best_accuracy, "Best_norm_ED", best_norm_ed);
  const std::string dashes(80, '-');
  text += fmt::format("{}\n{:25s} | {:25s} | Confidence Score & T/F\n{}\n", dashes, "Ground Truth", "Prediction", dashes);
  for (std::size_t i = 0; i < std::min<std::size_t>(5, v.predictions.size()); ++i) {
    text += fmt::format("{:25s} | {:25s} | {:0.4f}\t{}\n", v.ground_truths[i], v.predictions[i], v.confidence[i],
                        v.predictions[i] == v.ground_truths[i] ? "True" : "False");
  }
  return text + dashes + "\n";
}

}  // namespace

double scheduled_lr(const OcrTrainOptions& o, int iteration, int optimizer_start) {
  double factor = 1.0;
  if (o.lr_schedule == "cosine") {
    const double progress = std::clamp(static_cast<double>(iteration - o.warmup_iter) /
                                           std::max(1, o.num_iter - o.warmup_iter), 0.0, 1.0);
    factor = o.final_lr_ratio + (1.0 - o.final_lr_ratio) * 0.5 * (1.0 + std::cos(M_PI * progress));
  }
  const int warmed = iteration - optimizer_start;
  if (warmed < o.warmup_iter) factor *= 0.01 + 0.99 * static_cast<double>(std::max(0, warmed)) / o.warmup_iter;
  return o.lr * factor;
}

OcrTrainSummary train_ocr(const OcrTrainOptions& options, distributed::ProcessGroup* group) {
  const c10::Device device = parse_device(options.device);
  configure_threads(options.threads);
  models::use_kernels(options.kernels);
  torch::manual_seed(options.manualSeed);
  const bool writes_files = group == nullptr || group->is_main();
  const distributed::Shard shard = group != nullptr ? group->shard() : distributed::Shard{};
  const double ranks = static_cast<double>(shard.size);
  const fs::path run_dir = fs::path(options.saved_models_dir) / options.exp_name;
  if (writes_files) fs::create_directories(run_dir);
  OcrTrainSummary summary;
  summary.run_dir = run_dir.string();

  // A resumed run (--saved_model without --FT) continues the count, the best scores and the data streams.
  const bool resuming = !options.saved_model.empty() && !options.FT;
  const int start_iteration = resuming ? checkpoint_iteration(options.saved_model) : 0;
  require(start_iteration < options.num_iter, "{}: saved at iteration {}, which already reaches --num_iter {}",
          options.saved_model, start_iteration, options.num_iter);
  const OcrDataOptions data = data_options(options);
  BatchBalancedLoader train_loader(data, options.manualSeed, static_cast<std::size_t>(start_iteration), shard);
  auto validation = open_validation_source(options.valid_data, data);
  if (writes_files) {
    append_text(run_dir / "log_dataset.txt", train_loader.log() + validation.log + std::string(80, '-') + "\n");
  }
  const auto valid = validation.source;
  const int batch_size = train_loader.total_batch_size();  // the original replaces opt.batch_size by it

  const auto converter = make_converter(options.Prediction, options.character);
  OcrModel model(model_options(options, converter->num_class()));
  initialize_like_original(*model);
  spdlog::info("model {}: {} trainable parameters, num_class {}", stage_name(model->options()),
               count_trainable_parameters(*model), converter->num_class());
  if (options.FT && options.saved_model.empty()) {
    spdlog::warn("--FT without --saved_model: nothing to fine-tune from, training from scratch");
  }
  if (!options.saved_model.empty()) {
    const auto report = load_ocr_checkpoint(*model, options.saved_model, options.FT);
    spdlog::info("loaded {} ({} tensors){}", options.saved_model, report.loaded.size(),
                 options.FT ? " for fine-tuning" : "");
    if (options.FT) {
      spdlog::info("fine-tuning from {}: {}", options.saved_model, report.summary());
      // What was not taken, and why, key by key: a different num_class shows up here as the
      // Prediction layers' shapes.
      for (const auto& entry : report.mismatched) spdlog::warn("  skipped (shape): {}", entry);
      for (const auto& key : report.missing) spdlog::warn("  not in the checkpoint, kept as initialised: {}", key);
      for (const auto& key : report.unexpected) spdlog::warn("  not in the model, ignored: {}", key);
    }
  }
  if (resuming) {
    // Best scores: from the checkpoint's sidecar, else from the best files beside it; a best file is
    // replaced only by a strictly better score.
    const fs::path saved_dir = fs::path(options.saved_model).parent_path();
    summary.best_accuracy = sidecar_number(options.saved_model + ".json", "best_accuracy",
                                           sidecar_number(saved_dir / "best_accuracy.pth.json", "accuracy", -1.0));
    summary.best_norm_ED = sidecar_number(options.saved_model + ".json", "best_norm_ED",
                                          sidecar_number(saved_dir / "best_norm_ED.pth.json", "norm_ED", -1.0));
    spdlog::info("resuming at iteration {} (best accuracy {:.3f}, best norm_ED {:.4f})", start_iteration,
                 summary.best_accuracy, summary.best_norm_ED);
  }
  model->to(device);
  model->train();
  std::unique_ptr<distributed::GradientAverager> gradient_averager;
  if (group != nullptr) {
    // Every rank loaded the same files; rank 0's copy is nevertheless made everyone's.
    distributed::broadcast_module_state(*group, *model);
    if (group->options().sync_batch_norm) distributed::synchronize_batch_norm(*group, *model);
    gradient_averager = std::make_unique<distributed::GradientAverager>(*group, *model);
    spdlog::info("data-parallel: {} ranks ({}), each loading {} or {} of every batch of {}", group->size(),
                 group->backend_name(), batch_size / group->size(),
                 (batch_size + group->size() - 1) / group->size(), batch_size);
  }

  std::vector<torch::Tensor> stages, transformation;
  for (const auto& item : model->named_parameters()) {
    if (!item.value().requires_grad()) continue;
    (item.key().rfind("Transformation.", 0) == 0 ? transformation : stages).push_back(item.value());
  }
  OcrOptimizer optimizer(options, stages, transformation);
  std::vector<torch::Tensor> trainable = stages;  // gradients are clipped over all of them together
  trainable.insert(trainable.end(), transformation.begin(), transformation.end());
  int optimizer_start = 0;
  if (resuming) {
    const fs::path state = optimizer_state_path(options.saved_model);
    if (fs::exists(state)) {
      optimizer.load(state);
      spdlog::info("restored the optimizer state from {}", state.string());
    } else {
      optimizer_start = start_iteration;
      spdlog::warn("{} not found: the optimizer starts afresh and warms up again over {} iterations (the weights and "
                   "counters are restored)", state.string(), options.warmup_iter);
    }
  }
  nlohmann::json options_json = options;
  options_json["num_class"] = converter->num_class();
  options_json["world_size"] = shard.size;
  if (writes_files) {
    write_json_file((run_dir / "options.json").string(), options_json);
    append_text(run_dir / "opt.txt", options_text(options, converter->num_class()));
  }

  const ScoringRules scoring{options.sensitive, options.data_filtering_off,
                                  decode_utf8(options.character, "--character")};
  const auto save = [&](const std::string& name, int iteration, const ValidationResult& result) {
    if (!writes_files) return;
    nlohmann::json sidecar{{"iteration", iteration},         {"accuracy", result.accuracy},
                           {"norm_ED", result.norm_ED},       {"best_accuracy", summary.best_accuracy},
                           {"best_norm_ED", summary.best_norm_ED}, {"options", options_json}};
    const std::string path = (run_dir / name).string();
    // The optimizer state first; the sidecar, written last, records both files' fingerprints.
    std::vector<std::string> described;
    if (name == "latest.pth") {
      optimizer.save(optimizer_state_path(path));
      described.push_back(optimizer_state_path(path).string());
    }
    save_ocr_checkpoint(*model, path, sidecar, described);
  };

  install_interrupt_handler();
  std::optional<ProgressLine> progress;
  if (writes_files) progress.emplace("train_ocr", options.num_iter - start_iteration, "it");
  double loss_sum = 0.0;
  int loss_count = 0;
  const auto start_time = std::chrono::steady_clock::now();
  int iteration = start_iteration;
  for (; iteration < options.num_iter; ++iteration) {
    if (group == nullptr && interrupt_requested()) {
      summary.interrupted = true;
      break;
    }
    OcrBatch batch = train_loader.next();
    const auto images = batch.images.to(device);
    const auto target = converter->encode(batch.labels, options.batch_max_length);
    torch::Tensor logits = options.Prediction == "CTC"
                               ? model->forward(images, target.text.to(device), true)
                               : model->forward(images, target.text.slice(1, 0, -1).to(device), true);
    torch::Tensor loss;
    double loss_value = 0.0;
    if (group == nullptr) {
      loss = recognition_loss(model, logits, target);
      loss_value = loss.item<double>();
    } else {
      // The global batch's loss; the stop request of any rank (Ctrl-C) travels with it, so all stop here.
      const auto terms = recognition_loss_terms(model, logits, target);
      const auto totals = group->sum({terms.sum.item<double>(), terms.count, interrupt_requested() ? 1.0 : 0.0});
      if (totals[2] > 0) {
        summary.interrupted = true;
        break;
      }
      loss_value = totals[0] / totals[1];
      loss = terms.sum * (ranks / totals[1]);  // the Reducer divides the summed gradients by the rank count
    }
    if (!std::isfinite(loss_value)) {
      throw Error(fmt::format("{}: training loss became {} at iteration {}; stopped. The last good checkpoints are in "
                              "{} (try a lower --lr or --grad_clip)",
                              run_dir.string(), loss_value, iteration + 1, run_dir.string()));
    }
    model->zero_grad();
    const double lr = scheduled_lr(options, iteration, optimizer_start);
    optimizer.set_lr(lr);
    if (gradient_averager) {
      gradient_averager->backward(loss);
    } else {
      loss.backward();
    }
    torch::nn::utils::clip_grad_norm_(trainable, options.grad_clip);
    optimizer.step();
    loss_sum += loss_value;
    ++loss_count;
    if (progress) progress->advance(1, fmt::format("loss {:.4f} lr {:.2g} batch {}", loss_value, lr, batch_size));

    // As the original: at the first iteration of a run and every valInterval; a resumed run keeps the schedule.
    if ((iteration + 1) % options.valInterval == 0 || (iteration == 0 && !resuming)) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
      if (group != nullptr && !group->options().sync_batch_norm) distributed::broadcast_buffers(*group, *model);
      model->eval();
      SequentialOcrLoader valid_loader(valid, data, batch_size, shard);
      auto result = run_validation(model, *converter, valid_loader, device, scoring);
      model->train();
      if (group != nullptr) {  // each rank validated every size-th batch
        const auto totals = group->sum({result.loss_sum, static_cast<double>(result.batches),
                                        static_cast<double>(result.correct), result.norm_ED_sum,
                                        static_cast<double>(result.samples)});
        result.loss_sum = totals[0];
        result.batches = static_cast<std::size_t>(totals[1]);
        result.correct = static_cast<std::size_t>(totals[2]);
        result.norm_ED_sum = totals[3];
        result.samples = static_cast<std::size_t>(totals[4]);
        result.update_means();
      }
      if (result.accuracy > summary.best_accuracy) {
        summary.best_accuracy = result.accuracy;
        save("best_accuracy.pth", iteration + 1, result);
      }
      if (result.norm_ED > summary.best_norm_ED) {
        summary.best_norm_ED = result.norm_ED;
        save("best_norm_ED.pth", iteration + 1, result);
      }
      save("latest.pth", iteration + 1, result);  // ours: what --saved_model resumes from
      const std::string block = validation_log(iteration + 1, options, loss_count > 0 ? loss_sum / loss_count : 0.0,
                                               result, elapsed, summary.best_accuracy, summary.best_norm_ED);
      loss_sum = 0.0;
      loss_count = 0;
      if (writes_files) {
        append_text(run_dir / "log_train.txt", block);
        try {
          write_training_curves((run_dir / "log_train.txt").string(), (run_dir / "curves.png").string());
        } catch (const std::exception& e) {
          spdlog::warn("curves.png not updated: {}", e.what());  // a picture is not worth stopping the run for
        }
      }
      spdlog::info("validation at {}:\n{}", iteration + 1, block);
    }
    // As the original (every 1e5 iterations there): weights kept along the way, never overwritten.
    if ((iteration + 1) % options.saveInterval == 0) {
      save(fmt::format("iter_{}.pth", iteration + 1), iteration + 1, ValidationResult{});
    }
  }
  if (progress) progress->finish();
  summary.iterations_done = iteration;
  if (summary.interrupted) {
    ValidationResult none;
    save("latest.pth", iteration, none);
    if (writes_files) {
      spdlog::warn("interrupted at iteration {}; saved {} (resume with --saved_model)", iteration,
                   (run_dir / "latest.pth").string());
    }
  }
  if (group != nullptr) group->barrier();  // every rank leaves once rank 0 has written everything
  return summary;
}

}  // namespace cargovision::ocr
