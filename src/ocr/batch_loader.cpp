#include "cargovision/ocr/batch_loader.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <numeric>

#include <opencv2/core/utility.hpp>

#include "cargovision/core/error.h"
#include "cargovision/ocr/synthetic_codes.h"

namespace cargovision::ocr {

AlignCollateOptions collate_options(const OcrDataOptions& options) {
  require(options.imgH > 0 && options.imgW > 0, "--imgH and --imgW must be positive, got {} and {}", options.imgH,
          options.imgW);
  return {options.imgH, options.imgW, options.PAD};
}

OcrBatchPrefetcher::OcrBatchPrefetcher(Planner plan, AlignCollateOptions collate, int channels, std::size_t workers,
                                       std::size_t depth)
    : plan_(std::move(plan)),
      collate_(collate),
      channels_(channels),
      pool_(workers),
      prefetcher_(
          [this]() -> std::optional<OcrBatch> {
            auto samples = plan_();
            if (!samples) return std::nullopt;
            return build(*samples);
          },
          depth) {
  // The workers already decode and draw one crop each in parallel; OpenCV's own thread pool inside them would
  // add threads that take cores from the model's computation (the generator's blurs and warps use it).
  if (workers > 0) cv::setNumThreads(0);
}

OcrBatch OcrBatchPrefetcher::build(const std::vector<SampleRef>& samples) {
  OcrBatch batch;
  batch.images = torch::empty({static_cast<long>(samples.size()), channels_, collate_.imgH, collate_.imgW});
  batch.labels.resize(samples.size());
  pool_.parallel_for(samples.size(), [&](std::size_t i) {
    OcrSample sample = samples[i].source->get(samples[i].index);
    align_into(sample.image, collate_, batch.images[static_cast<long>(i)]);
    batch.labels[i] = std::move(sample.label);
  });
  return batch;
}

BatchBalancedLoader::BatchBalancedLoader(const OcrDataOptions& options, std::uint32_t seed, std::size_t skip_batches,
                                         distributed::Shard shard)
    : shard_(shard), shuffle_random_(seed) {
  require(options.batch_size > 0, "--batch_size must be positive, got {}", options.batch_size);
  require(options.total_data_usage_ratio > 0.0 && options.total_data_usage_ratio <= 1.0,
          "--total_data_usage_ratio must be in (0, 1], got {}", options.total_data_usage_ratio);
  const auto selections = split_dashes(options.select_data);
  const auto ratios = parse_batch_ratio(options);
  const std::string dashes(80, '-');
  log_ += fmt::format("{}\ndataset_root: {}\nopt.select_data: {}\nopt.batch_ratio: {}\n", dashes, options.train_data,
                      options.select_data, options.batch_ratio);
  std::vector<std::string> size_texts;
  for (std::size_t d = 0; d < selections.size(); ++d) {
    const int share = per_dataset_batch_size(options.batch_size, ratios[d]);
    log_ += dashes + "\n";
    Stream stream;
    std::string total_text;
    if (selections[d] == kSyntheticSelection) {
      const std::size_t curriculum = static_cast<std::size_t>(std::max(0, options.synth_curriculum)) * share;
      auto source = std::make_shared<SyntheticCodeSource>(training_stream_seed(seed), SyntheticCodeSource::kEndless,
                                                          options, crop_options_for(options), curriculum);
      stream.used = source->size();
      total_text = options.synth_curriculum > 0
                       ? fmt::format("endless (generated; clean to fully degraded over {} iterations)", options.synth_curriculum)
                       : std::string("endless (generated)");
      const std::string source_line = fmt::format("dataset_root:    (code-crop generator)\t dataset: {}\n", selections[d]);
      spdlog::info("{}", source_line.substr(0, source_line.size() - 1));
      log_ += source_line;
      datasets_.push_back(std::move(source));
    } else {
      require(!options.train_data.empty(), "--select_data '{}' names LMDB selection '{}' but --train_data is empty",
              options.select_data, selections[d]);
      auto hierarchical = hierarchical_dataset(options.train_data, options, {selections[d]});
      log_ += hierarchical.log;
      const std::size_t total = hierarchical.dataset.size();
      stream.used = static_cast<std::size_t>(static_cast<double>(total) * options.total_data_usage_ratio);
      require(stream.used > 0, "{}: selection '{}' has {} samples; total_data_usage_ratio {} leaves none",
              options.train_data, selections[d], total, options.total_data_usage_ratio);
      total_text = fmt::format("{} x {} (total_data_usage_ratio) = {}", total, options.total_data_usage_ratio, stream.used);
      datasets_.push_back(std::make_shared<ConcatDataset>(std::move(hierarchical.dataset)));
    }
    const std::string line = fmt::format(
        "num total samples of {}: {}\nnum samples of {} per batch: {} x {} (batch_ratio) = {}", selections[d],
        total_text, selections[d], options.batch_size, ratios[d], share);
    spdlog::info("{}", line);
    log_ += line + "\n";
    streams_.push_back(std::move(stream));
    batch_sizes_.push_back(share);
    size_texts.push_back(std::to_string(share));
    total_batch_size_ += share;
  }
  std::string sum;
  for (const auto& text : size_texts) sum += (sum.empty() ? "" : "+") + text;
  const std::string total_line = fmt::format("Total_batch_size: {} = {}", sum, total_batch_size_);
  spdlog::info("{}", total_line);
  log_ += fmt::format("{}\n{}\n{}\n", dashes, total_line, dashes);
  require(total_batch_size_ >= shard_.size, "--batch_size: a global batch of {} cannot be shared by {} ranks",
          total_batch_size_, shard_.size);

  for (std::size_t skipped = 0; skipped < skip_batches; ++skipped) plan();
  const int channels = options.rgb ? 3 : 1;
  prefetcher_ = std::make_unique<OcrBatchPrefetcher>([this] { return plan(); }, collate_options(options), channels,
                                                     static_cast<std::size_t>(std::max(0, options.workers)));
}

std::optional<std::vector<SampleRef>> BatchBalancedLoader::plan() {
  if (shard_.whole()) return plan_global_batch();
  for (;;) {
    const std::vector<SampleRef> global = plan_global_batch();
    if (global.size() < static_cast<std::size_t>(shard_.size)) continue;
    std::vector<SampleRef> samples;
    for (std::size_t row = 0; row < global.size(); ++row) {
      if (shard_.owns(row)) samples.push_back(global[row]);
    }
    return samples;
  }
}

std::vector<SampleRef> BatchBalancedLoader::plan_global_batch() {
  std::vector<SampleRef> samples;
  for (std::size_t d = 0; d < streams_.size(); ++d) {
    Stream& stream = streams_[d];
    if (datasets_[d]->endless()) {  // a generated stream: the next samples, never repeated
      for (int k = 0; k < batch_sizes_[d]; ++k) samples.push_back({datasets_[d].get(), stream.position++});
      continue;
    }
    if (stream.position >= stream.order.size()) {  // a new pass: reshuffle this stream only
      stream.order.resize(stream.used);
      std::iota(stream.order.begin(), stream.order.end(), std::size_t{0});
      std::shuffle(stream.order.begin(), stream.order.end(), shuffle_random_);
      stream.position = 0;
    }
    std::size_t take = std::min(static_cast<std::size_t>(batch_sizes_[d]), stream.order.size() - stream.position);
    // With one selection, a pass ending in a single sample would make a batch of one, which batch norm
    // cannot train on: that sample joins this batch instead.
    if (streams_.size() == 1 && stream.order.size() - stream.position - take == 1) ++take;
    for (std::size_t k = 0; k < take; ++k) samples.push_back({datasets_[d].get(), stream.order[stream.position + k]});
    stream.position += take;
  }
  return samples;
}

OcrBatch BatchBalancedLoader::next() {
  auto batch = prefetcher_->next();
  require(batch.has_value(), "training data stream ended unexpectedly");
  return std::move(*batch);
}

SequentialOcrLoader::SequentialOcrLoader(std::shared_ptr<const OcrSampleSource> dataset, const OcrDataOptions& options,
                                         int batch_size, distributed::Shard shard)
    : dataset_(std::move(dataset)), batch_size_(batch_size), shard_(shard) {
  require(batch_size > 0, "batch size must be positive, got {}", batch_size);
  prefetcher_ = std::make_unique<OcrBatchPrefetcher>(
      [this]() -> std::optional<std::vector<SampleRef>> {
        const auto batch = static_cast<std::size_t>(batch_size_);
        while (position_ < dataset_->size() && !shard_.owns(batch_index_)) {  // another rank's batch
          position_ += batch;
          ++batch_index_;
        }
        if (position_ >= dataset_->size()) return std::nullopt;
        std::vector<SampleRef> samples;
        for (; position_ < dataset_->size() && samples.size() < batch; ++position_) {
          samples.push_back({dataset_.get(), position_});
        }
        ++batch_index_;
        return samples;
      },
      collate_options(options), options.rgb ? 3 : 1, static_cast<std::size_t>(std::max(0, options.workers)));
}

std::optional<OcrBatch> SequentialOcrLoader::next() { return prefetcher_->next(); }

ValidationSource open_validation_source(const std::string& valid_data, const OcrDataOptions& options) {
  // A fixed seed of its own: the same set for every run, whatever --manualSeed, unless one is given.
  constexpr std::uint64_t kDefaultValidationSeed = 20261125;
  if (const auto spec = parse_synthetic_set(valid_data, kDefaultValidationSeed)) {
    ValidationSource result;
    result.source = std::make_shared<SyntheticCodeSource>(spec->seed, spec->count, options, crop_options_for(options));
    result.log = fmt::format("dataset_root:    (code-crop generator)\t dataset: {} ({} samples, seed {})\n", valid_data,
                             spec->count, spec->seed);
    spdlog::info("validation: {} generated crops (seed {})", spec->count, spec->seed);
    return result;
  }
  auto hierarchy = hierarchical_dataset(valid_data, options);
  return {std::make_shared<ConcatDataset>(std::move(hierarchy.dataset)), std::move(hierarchy.log)};
}

}  // namespace cargovision::ocr
