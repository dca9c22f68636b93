#include "cargovision/io/folder_walk.h"

#include <set>

#include "cargovision/core/error.h"

namespace cargovision {
namespace fs = std::filesystem;
namespace {

void walk(const fs::path& folder, std::set<fs::path>& open_folders, FolderWalk& result) {
  std::error_code error;
  fs::directory_iterator it(folder, error);
  require(!error, "{}: cannot read the folder ({})", folder.string(), error.message());
  for (const fs::directory_iterator end; it != end; it.increment(error)) {
    const fs::directory_entry& entry = *it;
    std::error_code type_error;
    if (entry.is_directory(type_error)) {
      const fs::path real = fs::canonical(entry.path(), type_error);
      require(!type_error, "{}: cannot resolve the folder ({})", entry.path().string(), type_error.message());
      require(open_folders.count(real) == 0, "{}: link loop (leads back to {})", entry.path().string(), real.string());
      result.directories.push_back(entry.path());
      open_folders.insert(real);
      walk(entry.path(), open_folders, result);
      open_folders.erase(real);
    } else if (entry.is_regular_file(type_error)) {
      result.files.push_back(entry.path());
    }
  }
  require(!error, "{}: cannot read the folder ({})", folder.string(), error.message());
}

}  // namespace

FolderWalk walk_folder(const fs::path& root) {
  FolderWalk result;
  std::error_code error;
  const fs::path real = fs::canonical(root, error);
  require(!error, "{}: cannot read the folder ({})", root.string(), error.message());
  std::set<fs::path> open_folders{real};
  walk(root, open_folders, result);
  return result;
}

}  // namespace cargovision
