#pragma once
// Batches of images for the classifier, decoded and augmented by a thread pool one batch ahead of
// the model, so that on a small machine the network, not the loader, is the bottleneck.

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cargovision/core/prefetcher.h"
#include "cargovision/core/thread_pool.h"
#include "cargovision/data/image_folder.h"
#include "cargovision/data/image_pipeline.h"
#include "cargovision/data/numpy_random.h"
#include "cargovision/distributed/rank.h"

namespace cargovision {

struct ImageBatch {
  torch::Tensor images;               // [B, 3, S, S] float32
  torch::Tensor labels;               // [B] float32 (0/1...), -1 for unlabeled samples
  std::vector<std::size_t> indices;   // positions in the loader's sample list
  std::size_t attempted = 0;          // files this batch tried to read, unreadable ones included
  // With a shard: the rows of the global batch this rank's images are (before unreadable ones left
  // it), and its size. Such a batch may hold no image: every rank sees every global batch.
  std::vector<int64_t> global_rows;
  std::size_t global_size = 0;
};

struct BatchLoaderOptions {
  std::size_t batch_size = 32;
  bool shuffle = false;
  std::size_t workers = 2;            // decoding threads; 0 decodes on the calling thread
  std::size_t prefetch = 2;           // batches prepared ahead
  // Training: a pass whose last batch would hold one image gives it to the batch before (batch norm
  // cannot normalise a single sample in training mode; Keras trains on such datasets).
  bool fold_single_remainder = false;
  std::uint32_t seed = 0;
  AugmentOptions augmentation;        // used when pipeline.augment is true
  // A data-parallel rank's rows of every batch; augmentation is drawn for the whole global batch, so
  // each image is transformed as in a single process.
  distributed::Shard shard;
};

class ImageBatchLoader {
 public:
  ImageBatchLoader(std::vector<ImageSample> samples, ImagePipeline pipeline, BatchLoaderOptions options);
  ImageBatchLoader(const ImageBatchLoader&) = delete;
  ImageBatchLoader& operator=(const ImageBatchLoader&) = delete;

  // Starts producing the batches of one pass over the samples (shuffled if asked, seed + epoch).
  void start_epoch(std::uint32_t epoch);
  // Blocks until the next batch is ready; empty at the end of the pass. Unreadable images are
  // skipped (warned once per path) and a batch may therefore be smaller than batch_size.
  std::optional<ImageBatch> next();

  std::size_t size() const { return samples_.size(); }
  std::size_t batches_per_epoch() const;
  // Whether this pass ends with a batch of batch_size + 1 (see fold_single_remainder).
  bool folds_single_remainder() const;
  const std::vector<ImageSample>& samples() const { return samples_; }
  // Paths that failed to decode so far (each counted once).
  std::vector<std::string> unreadable() const;

 private:
  std::optional<ImageBatch> build_batch(const std::vector<std::size_t>& indices);

  std::vector<ImageSample> samples_;
  ImagePipeline pipeline_;
  BatchLoaderOptions options_;
  NumpyRandom augment_random_;
  std::unique_ptr<ThreadPool> pool_;
  mutable std::mutex mutex_;  // guards unreadable_
  std::set<std::string> unreadable_;
  std::unique_ptr<Prefetcher<ImageBatch>> prefetcher_;  // last: its thread uses the members above
};

}  // namespace cargovision
