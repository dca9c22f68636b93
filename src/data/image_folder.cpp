#include "cargovision/data/image_folder.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "cargovision/core/error.h"
#include "cargovision/io/folder_walk.h"
#include "cargovision/io/image_reader.h"

namespace cargovision {
namespace fs = std::filesystem;

namespace {

// os.walk sorted by directory path, files sorted by name within each directory.
std::vector<std::string> walk_images(const fs::path& directory) {
  std::map<std::string, std::vector<std::string>> files_by_dir;
  files_by_dir[directory.string()];
  const FolderWalk found = walk_folder(directory);
  for (const auto& folder : found.directories) files_by_dir[folder.string()];
  for (const auto& file : found.files) {
    if (has_image_extension(file.filename().string())) {
      files_by_dir[file.parent_path().string()].push_back(file.filename().string());
    }
  }
  std::vector<std::string> paths;
  for (auto& entry : files_by_dir) {
    std::sort(entry.second.begin(), entry.second.end());
    for (const auto& name : entry.second) paths.push_back((fs::path(entry.first) / name).string());
  }
  return paths;
}

std::vector<std::string> direct_images(const fs::path& directory) {
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(directory)) {
    if (entry.is_regular_file() && has_image_extension(entry.path().filename().string())) {
      paths.push_back(entry.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace

std::vector<std::size_t> ImageFolder::class_counts() const { return count_per_class(samples, class_names.size()); }

ImageFolder scan_image_folder(const std::string& root, FolderLayout layout) {
  const fs::path root_path(root);
  std::error_code error;
  if (!fs::exists(root_path, error)) throw Error(root + ": folder does not exist");
  if (!fs::is_directory(root_path, error)) throw Error(root + ": not a folder");

  ImageFolder folder;
  folder.root = root;
  std::vector<std::string> classes;
  for (const auto& entry : fs::directory_iterator(root_path)) {
    if (entry.is_directory()) classes.push_back(entry.path().filename().string());
  }
  std::sort(classes.begin(), classes.end());

  if (classes.empty()) {
    if (layout == FolderLayout::kClassSubfolders) {
      throw Error(root + ": no class sub-folders (expected e.g. " + root + "/0 and " + root + "/1)");
    }
    for (const auto& path : direct_images(root_path)) {
      folder.samples.push_back({path, fs::relative(path, root_path).string(), -1});
    }
    if (folder.samples.empty()) throw Error(root + ": folder holds no images (png jpg jpeg bmp ppm tif tiff)");
    return folder;
  }

  folder.class_names = classes;
  for (size_t label = 0; label < classes.size(); ++label) {
    const fs::path class_dir = root_path / classes[label];
    for (const auto& path : walk_images(class_dir)) {
      folder.samples.push_back({path, fs::relative(path, root_path).string(), static_cast<int>(label)});
    }
  }
  if (folder.samples.empty()) {
    throw Error(root + ": class folders hold no images (png jpg jpeg bmp ppm tif tiff)");
  }
  return folder;
}

FolderSplit split_validation(const ImageFolder& folder, double validation_fraction) {
  if (!(validation_fraction >= 0.0 && validation_fraction < 1.0)) {
    throw Error("validation_split must be in [0, 1), got " + std::to_string(validation_fraction));
  }
  FolderSplit split;
  const auto counts = folder.class_counts();
  size_t begin = 0;
  for (size_t label = 0; label < counts.size(); ++label) {
    const size_t n = counts[label];
    // Python's int() truncates; the product is computed in double as Keras does.
    const auto n_validation = static_cast<size_t>(validation_fraction * static_cast<double>(n));
    for (size_t i = 0; i < n; ++i) {
      const auto& sample = folder.samples[begin + i];
      (i < n_validation ? split.validation : split.training).push_back(sample);
    }
    begin += n;
  }
  return split;
}

std::vector<std::size_t> count_per_class(const std::vector<ImageSample>& samples, std::size_t num_classes) {
  std::vector<std::size_t> counts(num_classes, 0);
  for (const auto& sample : samples) {
    if (sample.label >= 0 && static_cast<std::size_t>(sample.label) < num_classes) ++counts[sample.label];
  }
  return counts;
}

std::vector<double> balanced_class_weights(const std::vector<std::size_t>& counts) {
  std::size_t total = 0;
  for (auto c : counts) total += c;
  std::vector<double> weights(counts.size(), 0.0);
  for (size_t c = 0; c < counts.size(); ++c) {
    if (counts[c] > 0) {
      weights[c] = static_cast<double>(total) / (static_cast<double>(counts.size()) * static_cast<double>(counts[c]));
    }
  }
  return weights;
}

}  // namespace cargovision
