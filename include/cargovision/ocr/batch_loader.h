#pragma once
// OCR batches prepared ahead of the model: a planner thread decides which samples form each batch
// (deterministically), a thread pool decodes and aligns them, and a bounded queue hands them over.

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cargovision/core/prefetcher.h"
#include "cargovision/core/thread_pool.h"
#include "cargovision/distributed/rank.h"
#include "cargovision/ocr/align_collate.h"
#include "cargovision/ocr/lmdb_dataset.h"
#include "cargovision/ocr/sample_source.h"

namespace cargovision::ocr {

struct OcrBatch {
  torch::Tensor images;             // [B, C, imgH, imgW] in [-1, 1]
  std::vector<std::string> labels;  // UTF-8
};

struct SampleRef {
  const OcrSampleSource* source;
  std::size_t index;
};

class OcrBatchPrefetcher {
 public:
  // `plan` returns the samples of the next batch, or nothing at the end of the stream.
  using Planner = std::function<std::optional<std::vector<SampleRef>>()>;
  OcrBatchPrefetcher(Planner plan, AlignCollateOptions collate, int channels, std::size_t workers,
                     std::size_t depth = 3);

  // Blocks for the next batch; nothing once the planner is exhausted. Rethrows loader errors.
  std::optional<OcrBatch> next() { return prefetcher_.next(); }

 private:
  OcrBatch build(const std::vector<SampleRef>& samples);

  Planner plan_;
  AlignCollateOptions collate_;
  int channels_;
  ThreadPool pool_;
  Prefetcher<OcrBatch> prefetcher_;  // last: its thread uses the members above
};

// The original Batch_Balanced_Dataset: one shuffled stream per selection of train_data, each giving
// max(round(batch_size * ratio), 1) samples to every batch and reshuffling independently when
// exhausted (its last batch of a pass may be short, as a DataLoader without drop_last; with a single
// selection, a last batch of one sample joins the one before, for batch norm). The selection
// "synth" is the code-crop generator's endless stream instead of LMDBs (see synthetic_codes.h).
// `skip_batches` plans and drops that many batches first: a resumed run continues every stream where
// the interrupted one stopped instead of replaying its first batches.
// In a data-parallel run every rank plans the same global batches and loads only its shard's rows of
// each (a global batch with fewer samples than ranks, possible only at the end of a dataset's pass,
// is left out on every rank).
class BatchBalancedLoader {
 public:
  BatchBalancedLoader(const OcrDataOptions& options, std::uint32_t seed, std::size_t skip_batches = 0,
                      distributed::Shard shard = {});

  OcrBatch next();
  int total_batch_size() const { return total_batch_size_; }
  // The lines the original prints and appends to log_dataset.txt.
  const std::string& log() const { return log_; }
  const std::vector<int>& batch_sizes() const { return batch_sizes_; }
  const std::vector<std::shared_ptr<const OcrSampleSource>>& datasets() const { return datasets_; }

 private:
  struct Stream {
    std::size_t used = 0;                 // samples in use (total_data_usage_ratio)
    std::vector<std::size_t> order;
    std::size_t position = 0;
  };
  std::optional<std::vector<SampleRef>> plan();
  std::vector<SampleRef> plan_global_batch();

  distributed::Shard shard_;
  std::vector<std::shared_ptr<const OcrSampleSource>> datasets_;
  std::vector<Stream> streams_;
  std::vector<int> batch_sizes_;
  int total_batch_size_ = 0;
  std::string log_;
  std::mt19937_64 shuffle_random_;
  std::unique_ptr<OcrBatchPrefetcher> prefetcher_;
};

// Every sample of a dataset once, in order, in batches: validation and demo. With a shard, only the
// batches b with b % size == rank (whole batches, so that per-batch means add up as in one process).
class SequentialOcrLoader {
 public:
  SequentialOcrLoader(std::shared_ptr<const OcrSampleSource> dataset, const OcrDataOptions& options, int batch_size,
                      distributed::Shard shard = {});
  std::optional<OcrBatch> next();

 private:
  std::shared_ptr<const OcrSampleSource> dataset_;
  std::size_t position_ = 0;
  std::size_t batch_index_ = 0;
  int batch_size_;
  distributed::Shard shard_;
  std::unique_ptr<OcrBatchPrefetcher> prefetcher_;
};

AlignCollateOptions collate_options(const OcrDataOptions& options);

struct ValidationSource {
  std::shared_ptr<const OcrSampleSource> source;
  std::string log;  // for log_dataset.txt
};
// --valid_data: every LMDB under the folder, or a fixed generated set "synth:N[:SEED]".
ValidationSource open_validation_source(const std::string& valid_data, const OcrDataOptions& options);

}  // namespace cargovision::ocr
