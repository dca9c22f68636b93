#pragma once
// Keras flow_from_directory semantics: class sub-folders in plain string order, files found by a
// recursive walk (directories sorted, then file names sorted), a deterministic per-class validation split.

#include <cstddef>
#include <string>
#include <vector>

namespace cargovision {

struct ImageSample {
  std::string path;       // full path
  std::string relative;   // relative to the folder root, as Keras reports it
  int label = -1;         // -1 when the folder has no class sub-folders
};

struct ImageFolder {
  std::string root;
  std::vector<std::string> class_names;  // empty for a flat folder
  std::vector<ImageSample> samples;      // grouped by class, each group in walk order
  std::vector<std::size_t> class_counts() const;
};

enum class FolderLayout { kClassSubfolders, kClassSubfoldersOrFlat };

// Throws Error naming the folder when it is missing, empty of images, or (kClassSubfolders) has no classes.
ImageFolder scan_image_folder(const std::string& root, FolderLayout layout = FolderLayout::kClassSubfolders);

struct FolderSplit {
  std::vector<ImageSample> training;
  std::vector<ImageSample> validation;
};

// For each class with n files, validation takes the first int(fraction * n) and training the rest.
FolderSplit split_validation(const ImageFolder& folder, double validation_fraction);

std::vector<std::size_t> count_per_class(const std::vector<ImageSample>& samples, std::size_t num_classes);

// w_c = N / (K * N_c), as sklearn's "balanced" weights; a class without files gets weight 0.
std::vector<double> balanced_class_weights(const std::vector<std::size_t>& counts);

}  // namespace cargovision
