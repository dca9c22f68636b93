#include "cargovision/core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "cargovision/core/error.h"

namespace cargovision {
namespace {

std::filesystem::path temporary_sibling(const std::filesystem::path& target) {
  auto name = "." + target.filename().string() + ".tmp." + std::to_string(::getpid());
  return target.parent_path() / name;
}

void sync_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error(path.string() + ": cannot reopen for sync: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw Error(path.string() + ": fsync failed: " + std::strerror(errno));
}

}  // namespace

void write_file_atomically(const std::filesystem::path& target,
                           const std::function<void(const std::filesystem::path& temporary)>& writer) {
  if (!target.parent_path().empty()) std::filesystem::create_directories(target.parent_path());
  const auto temporary = temporary_sibling(target);
  try {
    writer(temporary);
    sync_file(temporary);
    std::filesystem::rename(temporary, target);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw;
  }
}

void write_file_atomically(const std::filesystem::path& target, std::string_view contents) {
  write_file_atomically(target, [&](const std::filesystem::path& temporary) {
    std::FILE* file = std::fopen(temporary.c_str(), "wb");
    if (file == nullptr) throw Error(target.string() + ": cannot write: " + std::strerror(errno));
    const size_t written = std::fwrite(contents.data(), 1, contents.size(), file);
    const bool ok = written == contents.size() && std::fflush(file) == 0;
    std::fclose(file);
    if (!ok) throw Error(target.string() + ": write failed (disk full?)");
  });
}

}  // namespace cargovision
