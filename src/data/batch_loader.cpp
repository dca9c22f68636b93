#include "cargovision/data/batch_loader.h"

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

ImageBatchLoader::~ImageBatchLoader() { stop_producer(); }

std::size_t ImageBatchLoader::batches_per_epoch() const {
  return (samples_.size() + options_.batch_size - 1) / options_.batch_size;
}

std::vector<std::string> ImageBatchLoader::unreadable() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {unreadable_.begin(), unreadable_.end()};
}

void ImageBatchLoader::stop_producer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancel_ = true;
  }
  changed_.notify_all();
  if (producer_.joinable()) producer_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  cancel_ = false;
  producing_ = false;
  ready_.clear();
  producer_error_ = nullptr;
}

void ImageBatchLoader::start_epoch(std::uint32_t epoch) {
  stop_producer();
  std::vector<std::size_t> order(samples_.size());
  std::iota(order.begin(), order.end(), 0);
  if (options_.shuffle) {
    std::mt19937 shuffler(options_.seed + 7919u * (epoch + 1));
    std::shuffle(order.begin(), order.end(), shuffler);
  }
  producing_ = true;
  producer_ = std::thread([this, order = std::move(order)]() mutable { produce(std::move(order)); });
}

void ImageBatchLoader::produce(std::vector<std::size_t> order) {
  try {
    std::size_t unreported = 0;  // files of wholly unreadable batches, credited to the next batch
    for (std::size_t begin = 0; begin < order.size(); begin += options_.batch_size) {
      const std::size_t end = std::min(order.size(), begin + options_.batch_size);
      std::vector<std::size_t> indices(order.begin() + begin, order.begin() + end);
      auto batch = build_batch(indices);
      if (!batch) {
        unreported += indices.size();
        continue;
      }
      batch->attempted += unreported;
      unreported = 0;
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return cancel_ || ready_.size() < std::max<std::size_t>(1, options_.prefetch); });
      if (cancel_) return;
      ready_.push_back(std::move(*batch));
      changed_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    producer_error_ = std::current_exception();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  producing_ = false;
  changed_.notify_all();
}

std::optional<ImageBatch> ImageBatchLoader::build_batch(const std::vector<std::size_t>& indices) {
  const int size = pipeline_.image_size;
  // Parameters are drawn in sample order on this thread so results do not depend on thread timing.
  std::vector<TransformParams> transforms(indices.size());
  if (pipeline_.augment) {
    for (auto& transform : transforms) transform = draw_transform(options_.augmentation, size, size, augment_random_);
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
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (!ok[i]) continue;
    keep.push_back(static_cast<int64_t>(i));
    batch.indices.push_back(indices[i]);
    labels.push_back(static_cast<float>(samples_[indices[i]].label));
  }
  if (keep.empty()) return std::nullopt;
  batch.images = keep.size() == indices.size() ? images : images.index_select(0, torch::tensor(keep));
  batch.labels = torch::tensor(labels, torch::kFloat32);
  return batch;
}

std::optional<ImageBatch> ImageBatchLoader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !ready_.empty() || !producing_ || producer_error_; });
  if (producer_error_) {
    auto error = producer_error_;
    producer_error_ = nullptr;
    std::rethrow_exception(error);
  }
  if (ready_.empty()) return std::nullopt;
  ImageBatch batch = std::move(ready_.front());
  ready_.pop_front();
  changed_.notify_all();
  return batch;
}

}  // namespace cargovision
