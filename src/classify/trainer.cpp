#include "cargovision/classify/trainer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>

#include "cargovision/classify/callbacks.h"
#include "cargovision/classify/checkpoint.h"
#include "cargovision/classify/model.h"
#include "cargovision/core/device.h"
#include "cargovision/core/error.h"
#include "cargovision/core/interrupt.h"
#include "cargovision/core/progress.h"
#include "cargovision/distributed/data_parallel.h"
#include "cargovision/classify/image_batch_loader.h"
#include "cargovision/io/checkpoint_sidecar.h"
#include "cargovision/io/json_file.h"
#include "cargovision/models/fast_kernels.h"
#include "cargovision/train/optimizer_state.h"

namespace cargovision {
namespace fs = std::filesystem;

namespace {

struct PassResult {
  double loss = 0;
  double accuracy = 0;
  std::size_t samples = 0;
  bool interrupted = false;
};

Normalization resolve_normalization(const TrainOptions& options) {
  if (options.normalize == "auto") return options.weights == "none" ? Normalization::kRescale : Normalization::kImagenet;
  return parse_normalization(options.normalize);
}

std::string describe_counts(const std::vector<std::string>& names, const std::vector<std::size_t>& counts) {
  std::string text;
  for (size_t c = 0; c < names.size(); ++c) text += fmt::format("{}{}: {}", c ? ", " : "", names[c], counts[c]);
  return text;
}

// A data-parallel rank's view of one global batch, agreed by all ranks in one all-reduce.
struct GlobalBatch {
  std::vector<int64_t> rows;   // this rank's readable images' rows in the global batch of readable images
  double size = 0;             // readable images in the global batch
  bool some_rank_empty = false;
  bool interrupted = false;    // Ctrl-C on any rank
};

GlobalBatch agree_on_batch(distributed::ProcessGroup& group, const ImageBatch& batch) {
  const std::size_t rows = batch.global_size;
  std::vector<double> flags(rows + 1, 0.0);
  for (const int64_t row : batch.global_rows) flags[static_cast<std::size_t>(row)] = 1.0;
  flags[rows] = interrupt_requested() ? 1.0 : 0.0;
  const auto totals = group.sum(flags);
  GlobalBatch global;
  global.interrupted = totals[rows] > 0;
  std::vector<int64_t> readable_before(rows, 0);
  std::vector<std::size_t> per_rank(static_cast<std::size_t>(group.size()), 0);
  int64_t readable = 0;
  for (std::size_t row = 0; row < rows; ++row) {
    readable_before[row] = readable;
    if (totals[row] > 0) {
      ++readable;
      ++per_rank[row % per_rank.size()];
    }
  }
  global.size = static_cast<double>(readable);
  for (const auto count : per_rank) global.some_rank_empty = global.some_rank_empty || count == 0;
  for (const int64_t row : batch.global_rows) global.rows.push_back(readable_before[static_cast<std::size_t>(row)]);
  return global;
}

PassResult run_pass(CargoClassifierImpl& model, ImageBatchLoader& loader, torch::optim::Optimizer* optimizer,
                    const torch::Tensor& class_weights, const c10::Device& device, int epoch, const std::string& label,
                    distributed::ProcessGroup* group, distributed::GradientAverager* averager) {
  const bool training = optimizer != nullptr;
  model.train(training);
  loader.start_epoch(static_cast<std::uint32_t>(epoch));
  std::optional<ProgressLine> progress;
  if (group == nullptr || group->is_main()) progress.emplace(label, static_cast<std::int64_t>(loader.size()), "img");
  PassResult result;
  double loss_sum = 0;
  std::size_t correct = 0;
  std::optional<torch::NoGradGuard> no_grad;
  if (!training) no_grad.emplace();
  bool warned_single = false;
  const double ranks = group != nullptr ? static_cast<double>(group->size()) : 1.0;
  while (auto batch = loader.next()) {
    const std::int64_t attempted = static_cast<std::int64_t>(batch->attempted * static_cast<std::size_t>(ranks));
    std::optional<GlobalBatch> global;
    if (group != nullptr) {
      global = agree_on_batch(*group, *batch);
      if (global->interrupted) {
        result.interrupted = true;
        break;
      }
    }
    const double batch_size = global ? global->size : static_cast<double>(batch->images.size(0));
    if (training && (batch_size == 1 || (global && global->some_rank_empty))) {
      // Unreadable images left one sample: batch norm cannot train on it, so the step is skipped; so is
      // a data-parallel step where a rank has no readable image left.
      if (!warned_single) {
        spdlog::warn(batch_size == 1 ? "skipping a training batch left with one readable image (batch norm needs two)"
                                     : "skipping a training batch where a rank has no readable image");
      }
      warned_single = true;
      if (progress) progress->advance(attempted, "");
      continue;
    }
    if (batch->images.size(0) == 0) {  // an evaluation share with nothing readable: nothing to add
      if (progress) progress->advance(attempted, "");
      continue;
    }
    const auto images = batch->images.to(device);
    const auto targets = batch->labels.to(device);
    if (global && training) model.head->set_global_rows(global->rows, static_cast<int64_t>(global->size));
    const auto logits = model.forward(images);
    torch::Tensor loss;
    const auto count = static_cast<std::size_t>(targets.size(0));
    double batch_loss_sum = 0.0;  // this rank's samples' losses, summed
    if (training) {
      // Keras: per-sample class weights, mean over the batch size (not over the weight sum).
      const auto weights = class_weights.index_select(0, targets.to(torch::kLong));
      optimizer->zero_grad();
      if (averager != nullptr) {
        const auto summed = torch::binary_cross_entropy_with_logits(logits, targets, weights, {}, at::Reduction::Sum);
        batch_loss_sum = summed.item<double>();
        averager->backward(summed * (ranks / batch_size));  // the averager divides by the rank count
      } else {
        loss = torch::binary_cross_entropy_with_logits(logits, targets, weights);
        loss.backward();
        batch_loss_sum = loss.item<double>() * static_cast<double>(count);
      }
      optimizer->step();
    } else {
      loss = torch::binary_cross_entropy_with_logits(logits, targets);
      batch_loss_sum = loss.item<double>() * static_cast<double>(count);
    }
    loss_sum += batch_loss_sum;
    correct += static_cast<std::size_t>(((logits > 0).to(torch::kFloat32) == targets).sum().item<int64_t>());
    result.samples += count;
    if (progress) {
      progress->advance(attempted, fmt::format("loss {:.4f} acc {:.4f}", loss_sum / static_cast<double>(result.samples),
                                               static_cast<double>(correct) / static_cast<double>(result.samples)));
    }
    if (group == nullptr && interrupt_requested()) {
      result.interrupted = true;
      break;
    }
  }
  if (group != nullptr && !result.interrupted) {  // the pass's figures over every rank's samples
    const auto totals = group->sum({loss_sum, static_cast<double>(correct), static_cast<double>(result.samples)});
    loss_sum = totals[0];
    correct = static_cast<std::size_t>(totals[1]);
    result.samples = static_cast<std::size_t>(totals[2]);
  }
  if (!result.interrupted && progress) progress->finish();
  if (result.samples > 0) {
    result.loss = loss_sum / static_cast<double>(result.samples);
    result.accuracy = static_cast<double>(correct) / static_cast<double>(result.samples);
  }
  return result;
}

// Where a resumed run continues: read from <run>/last.json, which must describe last.pt and last.pt.optim.
struct ResumePoint {
  int epochs_done = 0;
  BestModelTracker::State tracker;
  std::vector<EpochRecord> history;
  std::string best_checkpoint;
};

ResumePoint read_resume_point(const fs::path& run, const TrainOptions& options) {
  const fs::path last = run / "last.pt";
  require(fs::exists(last), "{}: no last.pt to resume from (a run saves it after each epoch)", run.string());
  const nlohmann::json sidecar = read_checkpoint_sidecar(sidecar_path(last.string()), last.string());
  require(sidecar.contains("resume"), "{}: written by a version without resume information; start a new run",
          sidecar_path(last.string()));
  const nlohmann::json& state = sidecar.at("resume");
  ResumePoint point;
  point.epochs_done = state.at("epochs_done").get<int>();
  point.tracker.best = state.at("best_val_loss").is_number() ? state.at("best_val_loss").get<double>()
                                                              : std::numeric_limits<double>::infinity();
  point.tracker.stopping_best = state.at("stopping_best").is_number() ? state.at("stopping_best").get<double>()
                                                                       : std::numeric_limits<double>::infinity();
  point.tracker.best_epoch = state.at("best_epoch").get<int>();
  point.tracker.wait = state.at("wait").get<int>();
  point.history = state.at("history").get<std::vector<EpochRecord>>();
  if (point.tracker.best_epoch >= 0 && fs::exists(run / "best.pt")) point.best_checkpoint = (run / "best.pt").string();
  require(!state.value("stopped_early", false), "{}: this run already stopped early after {} epochs; nothing to resume",
          run.string(), point.epochs_done);
  require(point.epochs_done < options.epochs, "{}: {} of --epochs {} are done; give more --epochs to continue",
          run.string(), point.epochs_done, options.epochs);
  return point;
}

// JSON has no infinity: an unset best is written as null.
nlohmann::json finite_or_null(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

}  // namespace

TrainSummary train_classifier(const TrainOptions& options, distributed::ProcessGroup* group) {
  const bool writes_files = group == nullptr || group->is_main();
  validate(options);
  const c10::Device device = parse_device(options.device);
  const int threads = configure_threads(options.threads);
  models::use_kernels(options.kernels);
  const Normalization normalization = resolve_normalization(options);
  const ResizeMethod resize = parse_resize_method(options.resize);
  if (options.weights != "none" && !fs::exists(options.weights)) {
    throw Error(options.weights + ": weights file not found (use --weights none for random initialisation)");
  }

  const ImageFolder folder = scan_image_folder(options.train_dir);
  if (folder.class_names.size() != 2) {
    throw Error(fmt::format("{}: found {} class folder(s) [{}]; the cargo classifier needs exactly 2 (0 = empty, 1 = loaded)",
                            options.train_dir, folder.class_names.size(), fmt::join(folder.class_names, ", ")));
  }
  const FolderSplit split = split_validation(folder, options.validation_split);
  const auto train_counts = count_per_class(split.training, 2);
  const auto val_counts = count_per_class(split.validation, 2);
  for (size_t c = 0; c < 2; ++c) {
    if (train_counts[c] == 0 || val_counts[c] == 0) {
      throw Error(fmt::format("{}: class '{}' has {} training and {} validation images; each subset needs both classes "
                              "(add images or change --validation-split)",
                              options.train_dir, folder.class_names[c], train_counts[c], val_counts[c]));
    }
  }

  const std::string output_dir = options.output_dir;
  std::optional<ResumePoint> resume;
  if (!options.resume.empty()) resume = read_resume_point(options.resume, options);
  nlohmann::json effective = options;
  if (writes_files) {
    fs::create_directories(options.output_dir);
    nlohmann::json written = effective;
    written["world_size"] = group != nullptr ? group->size() : 1;
    write_json_file((fs::path(output_dir) / "options.json").string(), written);
  }

  spdlog::info("Found {} images belonging to 2 classes for training ({})", split.training.size(),
               describe_counts(folder.class_names, train_counts));
  spdlog::info("Found {} images belonging to 2 classes for validation ({})", split.validation.size(),
               describe_counts(folder.class_names, val_counts));

  TrainSummary summary;
  summary.class_weights = options.class_weights ? balanced_class_weights(train_counts) : std::vector<double>{1.0, 1.0};
  spdlog::info("class weights: {{{}: {:.4f}, {}: {:.4f}}}", folder.class_names[0], summary.class_weights[0],
               folder.class_names[1], summary.class_weights[1]);

  torch::manual_seed(options.seed);
  CargoClassifier model(CargoClassifierOptions{options.backbone, options.dense, options.dropout});
  if (resume) {
    const LoadedClassifier last = load_classifier_checkpoint((fs::path(options.resume) / "last.pt").string());
    model = last.model;
    spdlog::info("resuming {} after epoch {} (best val_loss {:.5f} at epoch {}, {} epoch(s) without improvement)",
                 options.resume, resume->epochs_done, resume->tracker.best, resume->tracker.best_epoch + 1,
                 resume->tracker.wait);
  } else if (options.weights != "none") {
    load_backbone_weights(*model, options.weights);
  }
  model->to(device);
  spdlog::info("model: {} backbone, head GAP -> Dropout({}) -> {}Dense(1); {} on {} with {} thread(s); "
               "normalization {}",
               options.backbone, options.dropout, options.dense > 0 ? fmt::format("Dense({}) -> ", options.dense) : "",
               options.image_size, device.str(), threads, to_string(normalization));

  ImagePipeline train_pipeline{options.image_size, resize, normalization, options.augmentation.enabled,
                               parse_augment_flavour(options.augmentation.flavour)};
  ImagePipeline val_pipeline = train_pipeline;
  val_pipeline.augment = false;
  BatchLoaderOptions loader_options;
  loader_options.batch_size = static_cast<std::size_t>(options.batch_size);
  loader_options.workers = static_cast<std::size_t>(options.workers);
  loader_options.seed = options.seed;
  loader_options.augmentation = options.augmentation;
  loader_options.shuffle = true;
  loader_options.fold_single_remainder = true;
  if (group != nullptr) loader_options.shard = group->shard();
  ImageBatchLoader train_loader(split.training, train_pipeline, loader_options);
  if (train_loader.folds_single_remainder()) {
    spdlog::info("{} training images leave 1 over at batch size {}: the last batch of each epoch takes {}",
                 train_loader.size(), options.batch_size, options.batch_size + 1);
  }
  loader_options.shuffle = false;
  loader_options.fold_single_remainder = false;
  ImageBatchLoader val_loader(split.validation, val_pipeline, loader_options);

  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(options.lr).eps(options.adam_epsilon));
  const fs::path last_path = fs::path(output_dir) / "last.pt";
  const fs::path optimizer_path = last_path.string() + ".optim";
  if (resume) load_optimizer_state(optimizer, optimizer_path);
  const auto class_weights = torch::tensor(summary.class_weights, torch::kFloat32).to(device);

  ClassifierSidecar sidecar;
  sidecar.backbone = options.backbone;
  sidecar.dense = options.dense;
  sidecar.dropout = options.dropout;
  sidecar.image_size = options.image_size;
  sidecar.resize = options.resize;
  sidecar.normalization = to_string(normalization);
  sidecar.class_names = folder.class_names;
  sidecar.training_options = effective;

  std::unique_ptr<distributed::GradientAverager> averager;
  bool averaged_frozen = false;
  if (group != nullptr) {
    distributed::broadcast_module_state(*group, *model);
    if (group->options().sync_batch_norm) distributed::synchronize_batch_norm(*group, *model);
    spdlog::info("data-parallel: {} ranks ({}), each reading about {} of every batch of {}", group->size(),
                 group->backend_name(), options.batch_size / group->size(), options.batch_size);
  }

  const fs::path best_path = fs::path(output_dir) / "best.pt";
  BestModelTracker tracker(options.patience);
  int first_epoch = 0;
  if (resume) {
    tracker.restore(resume->tracker);
    summary.history = resume->history;
    summary.best_checkpoint = resume->best_checkpoint;
    summary.epochs_run = resume->epochs_done;
    first_epoch = resume->epochs_done;
  }
  // last.pt after every epoch, with what a resumed run needs: the optimizer state beside it, and the
  // epoch count, early-stopping state and history in its sidecar.
  bool last_saved = false;
  const auto save_last = [&](int epochs_done) {
    last_saved = true;
    if (!writes_files) return;
    sidecar.epoch = epochs_done;
    sidecar.val_loss = summary.history.empty() ? 0.0 : summary.history.back().val_loss;
    save_optimizer_state(optimizer, optimizer_path);
    const auto state = tracker.state();
    const nlohmann::json resume_state{{"epochs_done", epochs_done},
                                      {"best_val_loss", finite_or_null(state.best)},
                                      {"stopping_best", finite_or_null(state.stopping_best)},
                                      {"best_epoch", state.best_epoch},
                                      {"wait", state.wait},
                                      {"stopped_early", summary.stopped_early},
                                      {"history", summary.history}};
    save_classifier_checkpoint(*model, sidecar, last_path.string(), {{"resume", resume_state}},
                               {optimizer_path.string()});
  };
  install_interrupt_handler();
  for (int epoch = first_epoch; epoch < options.epochs; ++epoch) {
    const auto started = std::chrono::steady_clock::now();
    const bool frozen = epoch < options.freeze_epochs;
    model->set_backbone_frozen(frozen);
    if (group != nullptr && (!averager || averaged_frozen != frozen)) {  // the trainable set changed
      averager.reset();
      averager = std::make_unique<distributed::GradientAverager>(*group, *model);
      averaged_frozen = frozen;
    }
    // Dropout draws from the seed and the epoch only, so a resumed run draws what an uninterrupted one would.
    torch::manual_seed(options.seed + 15485863u * static_cast<std::uint32_t>(epoch));
    if (options.freeze_epochs > 0 && epoch == options.freeze_epochs) {
      // Keras recompiles the model to unfreeze it, which gives Adam new moments and a new step count.
      optimizer.state().clear();
      spdlog::info("backbone unfrozen: Adam starts afresh, as after a Keras recompile");
    }
    spdlog::info("Epoch {}/{}{}", epoch + 1, options.epochs, frozen ? " (backbone frozen)" : "");
    const PassResult train =
        run_pass(*model, train_loader, &optimizer, class_weights, device, epoch, "  train", group, averager.get());
    if (train.interrupted) {
      summary.interrupted = true;
      break;
    }
    if (group != nullptr && !group->options().sync_batch_norm) distributed::broadcast_buffers(*group, *model);
    const PassResult val =
        run_pass(*model, val_loader, nullptr, class_weights, device, epoch, "  val  ", group, nullptr);
    if (val.interrupted || val.samples == 0) {
      summary.interrupted = val.interrupted;
      if (val.samples == 0) throw Error(options.train_dir + ": no validation image could be read");
      break;
    }
    EpochRecord record{epoch + 1, train.loss, train.accuracy, val.loss, val.accuracy, options.lr,
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), frozen, false};
    const auto decision = tracker.update(epoch, val.loss);
    if (decision.save) {
      sidecar.epoch = epoch + 1;
      sidecar.val_loss = val.loss;
      if (writes_files) save_classifier_checkpoint(*model, sidecar, best_path.string());
      record.checkpoint_saved = true;
      summary.best_checkpoint = best_path.string();
    }
    summary.history.push_back(record);
    if (writes_files) write_history(summary.history, output_dir);
    spdlog::info("Epoch {}: loss {:.4f} - accuracy {:.4f} - val_loss {:.4f} - val_accuracy {:.4f} ({:.0f}s){}",
                 epoch + 1, train.loss, train.accuracy, val.loss, val.accuracy, record.seconds,
                 decision.save ? fmt::format(" - val_loss improved, saved {}", best_path.string())
                               : fmt::format(" - val_loss did not improve from {:.5f}", tracker.best()));
    ++summary.epochs_run;
    summary.stopped_early = decision.stop;
    save_last(summary.epochs_run);
    if (decision.stop) {
      spdlog::info("Epoch {}: early stopping (no val_loss improvement for {} epochs)", epoch + 1, options.patience);
      break;
    }
  }

  // An interrupted epoch is not saved: last.pt stays the end of the last complete one, where --resume
  // continues. Only a run stopped in its first epoch writes it here, so that it has one.
  if (!last_saved && !resume) save_last(summary.epochs_run);
  if (group != nullptr) group->barrier();  // every rank leaves once rank 0 has written everything
  summary.last_checkpoint = last_path.string();
  summary.best_epoch = tracker.best_epoch() + 1;
  summary.best_val_loss = tracker.best();
  const auto unreadable_train = train_loader.unreadable();
  const auto unreadable_val = val_loader.unreadable();
  summary.unreadable_images = unreadable_train.size() + unreadable_val.size();
  if (summary.interrupted) {
    spdlog::warn("training interrupted; {} holds the end of epoch {}: continue with --resume {}", last_path.string(),
                 summary.epochs_run, output_dir);
  }
  return summary;
}

}  // namespace cargovision
