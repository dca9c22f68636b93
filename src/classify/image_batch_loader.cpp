#include "cargovision/classify/image_batch_loader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <numeric>

#include "cargovision/core/error.h"
#include "cargovision/io/image_reader.h"

namespace cargovision {

ImageBatchLoader::ImageBatchLoader(std::vector<ImageSample> samples, ImagePipeline pipeline,
                                   BatchLoaderOptions options)
    : samples_(std::move(samples)),
      pipeline_(pipeline),
      options_(std::move(options)),
      augment_random_(options_.seed),
      pool_(std::make_unique<ThreadPool>(options_.workers)) {
  if (options_.batch_size == 0) throw Error("batch_size must be at least 1");
  if (pipeline_.augment) validate(options_.augmentation);
}

std::size_t ImageBatchLoader::batches_per_epoch() const {
  const std::size_t batches = (samples_.size() + options_.batch_size - 1) / options_.batch_size;
  return batches - (folds_single_remainder() ? 1 : 0);
}

bool ImageBatchLoader::folds_single_remainder() const {
  return options_.fold_single_remainder && samples_.size() > options_.batch_size &&
         samples_.size() % options_.batch_size == 1;
}

std::vector<std::string> ImageBatchLoader::unreadable() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {unreadable_.begin(), unreadable_.end()};
}

void ImageBatchLoader::start_epoch(std::uint32_t epoch) {
  prefetcher_.reset();
  std::vector<std::size_t> order(samples_.size());
  std::iota(order.begin(), order.end(), 0);
  if (options_.shuffle) {
    std::mt19937 shuffler(options_.seed + 7919u * (epoch + 1));
    std::shuffle(order.begin(), order.end(), shuffler);
  }
  // Each epoch's augmentation depends on the seed and the epoch only, so a resumed run draws what an
  // uninterrupted one would have.
  augment_random_ = NumpyRandom(options_.seed + 104729u * epoch);
  // Batches in order; files of wholly unreadable batches are credited to the next batch's count.
  auto produce = [this, order = std::move(order), begin = std::size_t{0},
                  unreported = std::size_t{0}]() mutable -> std::optional<ImageBatch> {
    while (begin < order.size()) {
      std::size_t end = std::min(order.size(), begin + options_.batch_size);
      if (folds_single_remainder() && order.size() - end == 1) end = order.size();
      const std::vector<std::size_t> indices(order.begin() + static_cast<std::ptrdiff_t>(begin),
                                             order.begin() + static_cast<std::ptrdiff_t>(end));
      begin = end;
      auto batch = build_batch(indices);
      if (!batch && !options_.shard.whole()) {  // the others may have read theirs: still a step for all
        batch.emplace();
        batch->images = torch::empty({0, 3, pipeline_.image_size, pipeline_.image_size}, torch::kFloat32);
        batch->labels = torch::empty({0}, torch::kFloat32);
        batch->global_size = indices.size();
        batch->attempted = options_.shard.count(indices.size());
      }
      if (!batch) {
        unreported += indices.size();
        continue;
      }
      batch->attempted += unreported;
      unreported = 0;
      return batch;
    }
    return std::nullopt;
  };
  prefetcher_ = std::make_unique<Prefetcher<ImageBatch>>(std::move(produce), options_.prefetch);
}

std::optional<ImageBatch> ImageBatchLoader::build_batch(const std::vector<std::size_t>& global_indices) {
  const int size = pipeline_.image_size;
  // Parameters are drawn in sample order on this thread so results do not depend on thread timing.
  std::vector<TransformParams> global_transforms(global_indices.size());
  if (pipeline_.augment) {
    for (auto& transform : global_transforms) {
      transform = draw_transform(options_.augmentation, size, size, augment_random_);
    }
  }
  std::vector<std::size_t> indices;
  std::vector<TransformParams> transforms;
  std::vector<int64_t> rows;
  for (std::size_t row = 0; row < global_indices.size(); ++row) {
    if (!options_.shard.owns(row)) continue;
    indices.push_back(global_indices[row]);
    transforms.push_back(global_transforms[row]);
    rows.push_back(static_cast<int64_t>(row));
  }
  const int64_t plane = static_cast<int64_t>(size) * size;
  torch::Tensor images = torch::empty({static_cast<int64_t>(indices.size()), 3, size, size}, torch::kFloat32);
  float* base = images.data_ptr<float>();
  std::vector<char> ok(indices.size(), 0);
  pool_->parallel_for(indices.size(), [&](std::size_t i) {
    const ImageSample& sample = samples_[indices[i]];
    try {
      const cv::Mat rgb = read_rgb_image(sample.path);
      const cv::Mat prepared = pipeline_.prepare(rgb, pipeline_.augment ? &transforms[i] : nullptr);
      ImagePipeline::to_chw(prepared, base + static_cast<int64_t>(i) * 3 * plane);
      ok[i] = 1;
    } catch (const ImageReadError& e) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (unreadable_.insert(sample.path).second) spdlog::warn("skipping unreadable image: {}", e.what());
    } catch (const cv::Exception& e) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (unreadable_.insert(sample.path).second) {
        spdlog::warn("skipping unreadable image: {}: {}", sample.path, e.msg);
      }
    }
  });

  ImageBatch batch;
  batch.attempted = indices.size();
  std::vector<int64_t> keep;
  std::vector<float> labels;
  batch.global_size = global_indices.size();
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (!ok[i]) continue;
    keep.push_back(static_cast<int64_t>(i));
    batch.global_rows.push_back(rows[i]);
    batch.indices.push_back(indices[i]);
    labels.push_back(static_cast<float>(samples_[indices[i]].label));
  }
  if (keep.empty()) return std::nullopt;
  batch.images = keep.size() == indices.size() ? images : images.index_select(0, torch::tensor(keep));
  batch.labels = torch::tensor(labels, torch::kFloat32);
  return batch;
}

std::optional<ImageBatch> ImageBatchLoader::next() {
  if (!prefetcher_) return std::nullopt;
  return prefetcher_->next();
}

}  // namespace cargovision
