#pragma once
// Walking a folder tree for images or datasets. std::filesystem's recursive iterator either throws a
// message without the folder's name or, with an error code, ends the walk silently at the first folder it
// cannot read; and following directory links it can loop. Here both are errors naming the folder.

#include <filesystem>
#include <vector>

namespace cargovision {

struct FolderWalk {
  std::vector<std::filesystem::path> directories;  // below the root, the root excluded
  std::vector<std::filesystem::path> files;        // regular files (and links to them)
};

// Everything under `root`, following links to directories (as Keras and the original tools do). Throws
// Error "<folder>: cannot read the folder (<reason>)" and "<link>: link loop (leads back to <folder>)".
FolderWalk walk_folder(const std::filesystem::path& root);

}  // namespace cargovision
