#include "cargovision/ocr/lmdb_dataset.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "cargovision/core/error.h"
#include "cargovision/data/pillow.h"
#include "cargovision/io/folder_walk.h"
#include "cargovision/io/image_reader.h"
#include "cargovision/ocr/text.h"

namespace cargovision::ocr {
namespace fs = std::filesystem;

LmdbDataset::LmdbDataset(const std::string& path, const OcrDataOptions& options)
    : reader_(path), options_(options), character_(decode_utf8(options.character, "--character")) {
  const auto count_text = reader_.get(kLmdbSampleCountKey);
  require(count_text.has_value(), "{}: LMDB has no 'num-samples' key (not a dataset, or an interrupted write)", path);
  try {
    std::size_t used = 0;
    const long long count = std::stoll(*count_text, &used);
    require(used == count_text->size() && count >= 0, "");
    stored_ = static_cast<std::size_t>(count);
  } catch (const std::exception&) {
    throw Error(fmt::format("{}: 'num-samples' is not a number: '{}'", path, *count_text));
  }
  indices_.reserve(stored_);
  for (std::size_t key = 1; key <= stored_; ++key) {
    if (options.data_filtering_off) {
      indices_.push_back(key);
      continue;
    }
    const std::u32string label = decode_utf8(read_label(key), fmt::format("{}: {}", path, lmdb_label_key(key)));
    if (label.size() > static_cast<std::size_t>(options.batch_max_length)) {
      ++too_long_;
      continue;
    }
    const std::u32string lowered = to_lower(label);
    if (std::any_of(lowered.begin(), lowered.end(),
                    [&](char32_t c) { return character_.find(c) == std::u32string::npos; })) {
      ++bad_characters_;
      continue;
    }
    indices_.push_back(key);
  }
}

std::string LmdbDataset::read_label(std::size_t key_index) const {
  auto label = reader_.get(lmdb_label_key(key_index));
  require(label.has_value(), "{}: key {} is missing (num-samples says {})", path(), lmdb_label_key(key_index), stored_);
  return std::move(*label);
}

std::size_t LmdbDataset::corrupt_images() const {
  std::lock_guard<std::mutex> lock(corrupt_mutex_);
  return corrupt_.size();
}

OcrSample LmdbDataset::get(std::size_t i) const {
  require(i < indices_.size(), "{}: sample {} out of range ({} samples)", path(), i, indices_.size());
  const std::size_t key = indices_[i];
  OcrSample sample;
  std::string label_bytes = read_label(key);
  const auto image_bytes = reader_.get(lmdb_image_key(key));
  try {
    if (!image_bytes) throw ImageReadError(fmt::format("key {} is missing", lmdb_image_key(key)));
    const cv::Mat rgb = decode_rgb_image(reinterpret_cast<const unsigned char*>(image_bytes->data()),
                                         image_bytes->size(), lmdb_image_key(key));
    sample.image = options_.rgb ? rgb : rgb_to_grey_pillow(rgb);
  } catch (const ImageReadError& e) {
    // As the original: a black image and a dummy label keep the batch shape; logged once per index.
    sample.image = cv::Mat::zeros(options_.imgH, options_.imgW, options_.rgb ? CV_8UC3 : CV_8UC1);
    sample.dummy = true;
    label_bytes = "[dummy_label]";
    std::lock_guard<std::mutex> lock(corrupt_mutex_);
    if (corrupt_.insert(key).second) spdlog::warn("{}: corrupted image for index {} ({})", path(), key, e.what());
  }
  sample.label = dataset_label(label_bytes, options_.sensitive, character_, fmt::format("{}: {}", path(), lmdb_label_key(key)));
  return sample;
}

void ConcatDataset::add(std::shared_ptr<const LmdbDataset> part) {
  offsets_.push_back(size() + part->size());
  parts_.push_back(std::move(part));
}

OcrSample ConcatDataset::get(std::size_t i) const {
  const auto it = std::upper_bound(offsets_.begin(), offsets_.end(), i);
  require(it != offsets_.end(), "sample {} out of range ({} samples)", i, size());
  const std::size_t part = static_cast<std::size_t>(it - offsets_.begin());
  return parts_[part]->get(i - (part == 0 ? 0 : offsets_[part - 1]));
}

HierarchicalDataset hierarchical_dataset(const std::string& root, const OcrDataOptions& options,
                                         const std::vector<std::string>& select_data) {
  require(fs::is_directory(root), "{}: dataset root does not exist", root);
  std::vector<fs::path> leaves;
  const auto is_leaf = [](const fs::path& folder) {
    return std::none_of(fs::directory_iterator(folder), fs::directory_iterator(),
                        [](const fs::directory_entry& e) { return e.is_directory(); });
  };
  if (is_leaf(root)) leaves.push_back(root);
  for (const auto& folder : walk_folder(root).directories) {
    if (is_leaf(folder)) leaves.push_back(folder);
  }
  std::sort(leaves.begin(), leaves.end());

  HierarchicalDataset result;
  result.log = fmt::format("dataset_root:    {}\t dataset: {}\n", root, select_data.empty() ? "/" : select_data.front());
  spdlog::info("dataset_root:    {}\t dataset: {}", root, select_data.empty() ? "/" : select_data.front());
  std::size_t stored = 0, too_long = 0, bad_characters = 0;
  for (const auto& leaf : leaves) {
    const std::string relative = fs::relative(leaf, root).generic_string();
    // The original matches against root + "/" + relative; matching below the root only keeps a root
    // such as /data/2021/ from selecting every dataset for "01" or "02". "/" still selects all.
    const std::string walked = "/" + (relative == "." ? std::string() : relative);
    const bool selected = std::any_of(select_data.begin(), select_data.end(),
                                      [&](const std::string& name) { return walked.find(name) != std::string::npos; });
    if (!selected) continue;
    if (!fs::exists(leaf / "data.mdb")) {
      spdlog::debug("{}: no data.mdb, not a dataset; skipped", leaf.string());
      continue;
    }
    auto dataset = std::make_shared<const LmdbDataset>(leaf.string(), options);
    const std::string line = fmt::format("sub-directory:\t/{}\t num samples: {}", relative == "." ? "" : relative, dataset->size());
    spdlog::info("{}", line);
    result.log += line + "\n";
    stored += dataset->stored_samples();
    too_long += dataset->filtered_too_long();
    bad_characters += dataset->filtered_characters();
    result.dataset.add(std::move(dataset));
  }
  std::string selection;
  for (const auto& name : select_data) selection += (selection.empty() ? "" : "-") + name;
  require(!result.dataset.parts().empty(), "{}: no LMDB dataset matches select_data '{}'", root, selection);
  require(result.dataset.size() > 0,
          "{}: selection '{}' is empty after filtering: {} stored, {} longer than batch_max_length {}, {} with "
          "characters outside --character (use --data_filtering_off, --sensitive or a wider --character)",
          root, selection, stored, too_long, options.batch_max_length, bad_characters);
  return result;
}

}  // namespace cargovision::ocr
