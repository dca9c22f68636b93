#pragma once
// The original LmdbDataset and hierarchical_dataset: samples of one LMDB, filtered by label length
// and character set, and the concatenation of every LMDB under a root that a selection names.

#include <cstddef>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <set>
#include <string>
#include <vector>

#include "cargovision/io/lmdb_store.h"
#include "cargovision/ocr/data_options.h"
#include "cargovision/ocr/sample_source.h"

namespace cargovision::ocr {

class LmdbDataset {
 public:
  LmdbDataset(const std::string& path, const OcrDataOptions& options);

  std::size_t size() const { return indices_.size(); }
  std::size_t stored_samples() const { return stored_; }    // num-samples before filtering
  std::size_t filtered_too_long() const { return too_long_; }
  std::size_t filtered_characters() const { return bad_characters_; }
  const std::string& path() const { return reader_.path(); }

  // The i-th surviving sample (0-based). Thread-safe.
  OcrSample get(std::size_t i) const;
  std::size_t corrupt_images() const;

 private:
  std::string read_label(std::size_t key_index) const;

  LmdbReader reader_;
  OcrDataOptions options_;
  std::u32string character_;
  std::vector<std::size_t> indices_;  // LMDB key indices (1-based) that passed the filter
  std::size_t stored_ = 0, too_long_ = 0, bad_characters_ = 0;
  mutable std::mutex corrupt_mutex_;
  mutable std::set<std::size_t> corrupt_;
};

// Several LMDBs seen as one, in order.
class ConcatDataset : public OcrSampleSource {
 public:
  void add(std::shared_ptr<const LmdbDataset> part);
  std::size_t size() const override { return offsets_.empty() ? 0 : offsets_.back(); }
  OcrSample get(std::size_t i) const override;
  const std::vector<std::shared_ptr<const LmdbDataset>>& parts() const { return parts_; }

 private:
  std::vector<std::shared_ptr<const LmdbDataset>> parts_;
  std::vector<std::size_t> offsets_;  // cumulative sizes
};

struct HierarchicalDataset {
  ConcatDataset dataset;
  std::string log;  // the original's "dataset_root: ... sub-directory: ... num samples: ..." lines
};

// Walks `root`; every leaf folder holding an LMDB whose path below the root ("/" + relative) contains
// one of the selections (substring; "/" matches all) is loaded, in sorted path order. Throws Error when the
// root is missing, nothing matches, or everything was filtered out (saying how many and why).
HierarchicalDataset hierarchical_dataset(const std::string& root, const OcrDataOptions& options,
                                         const std::vector<std::string>& select_data = {"/"});

}  // namespace cargovision::ocr
