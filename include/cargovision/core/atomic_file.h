#pragma once
// Files that must survive a crash (checkpoints, reports) are written to a temporary file in the same
// directory, flushed to disk and renamed over the target, so readers see either the old or the new file.

#include <filesystem>
#include <functional>
#include <string_view>

namespace cargovision {

void write_file_atomically(const std::filesystem::path& target, std::string_view contents);

// The writer streams into a temporary file; the target is replaced only if the writer returns normally.
void write_file_atomically(const std::filesystem::path& target,
                           const std::function<void(const std::filesystem::path& temporary)>& writer);

}  // namespace cargovision
