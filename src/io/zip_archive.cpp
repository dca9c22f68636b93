#include "cargovision/io/zip_archive.h"

#include <algorithm>

#include "cargovision/core/error.h"

namespace cargovision {
namespace {

constexpr std::uint32_t kLocalHeader = 0x04034b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr std::uint32_t kZip64EndOfCentralDirectory = 0x06064b50;
constexpr std::uint32_t kZip64Locator = 0x07064b50;

// Little-endian reads that fail instead of running past the end.
class Cursor {
 public:
  Cursor(std::string_view bytes, const std::string& origin) : bytes_(bytes), origin_(origin) {}
  std::uint64_t read(std::uint64_t offset, int width) const {
    require(offset <= bytes_.size() && static_cast<std::uint64_t>(width) <= bytes_.size() - offset,
            "{}: truncated zip archive (a record at byte {} runs past the end, {} bytes)", origin_, offset, bytes_.size());
    std::uint64_t value = 0;
    for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes_[offset + static_cast<std::uint64_t>(i)]);
    return value;
  }
  std::string_view slice(std::uint64_t offset, std::uint64_t size, const char* what) const {
    require(offset <= bytes_.size() && size <= bytes_.size() - offset,
            "{}: truncated zip archive ({} at byte {} needs {} bytes, the file has {})", origin_, what, offset, size,
            bytes_.size());
    return bytes_.substr(offset, size);
  }

 private:
  std::string_view bytes_;
  const std::string& origin_;
};

// Zip64 extra field (id 1): the 64-bit values present are those whose 32-bit field is 0xFFFFFFFF.
void apply_zip64_extra(std::string_view extra, std::uint64_t& uncompressed, std::uint64_t& compressed,
                       std::uint64_t& local_offset, const std::string& origin) {
  const Cursor cursor(extra, origin);
  std::uint64_t position = 0;
  while (position + 4 <= extra.size()) {
    const auto id = cursor.read(position, 2);
    const auto size = cursor.read(position + 2, 2);
    std::uint64_t field = position + 4;
    if (id == 1) {
      for (std::uint64_t* value : {&uncompressed, &compressed, &local_offset}) {
        if (*value == 0xFFFFFFFFu && field + 8 <= position + 4 + size) {
          *value = cursor.read(field, 8);
          field += 8;
        }
      }
    }
    position += 4 + size;
  }
}

}  // namespace

bool looks_like_zip(std::string_view bytes) { return bytes.size() >= 4 && bytes.substr(0, 4) == std::string_view("PK\3\4", 4); }

ZipArchive::ZipArchive(std::string_view bytes, std::string origin) : origin_(std::move(origin)) {
  const Cursor cursor(bytes, origin_);
  require(bytes.size() >= 22, "{}: truncated zip archive ({} bytes, no end-of-directory record)", origin_, bytes.size());
  // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
  std::uint64_t end = bytes.size() - 22;
  const std::uint64_t lowest = bytes.size() > 22 + 65535 ? bytes.size() - 22 - 65535 : 0;
  while (cursor.read(end, 4) != kEndOfCentralDirectory) {
    require(end > lowest, "{}: truncated zip archive (no end-of-central-directory record)", origin_);
    --end;
  }
  std::uint64_t count = cursor.read(end + 10, 2);
  std::uint64_t directory_size = cursor.read(end + 12, 4);
  std::uint64_t directory_offset = cursor.read(end + 16, 4);
  if ((count == 0xFFFF || directory_offset == 0xFFFFFFFFu) && end >= 20 && cursor.read(end - 20, 4) == kZip64Locator) {
    const std::uint64_t record = cursor.read(end - 20 + 8, 8);
    require(cursor.read(record, 4) == kZip64EndOfCentralDirectory, "{}: corrupt zip64 end-of-directory record", origin_);
    count = cursor.read(record + 32, 8);
    directory_size = cursor.read(record + 40, 8);
    directory_offset = cursor.read(record + 48, 8);
  }
  cursor.slice(directory_offset, directory_size, "the central directory");
  require(count <= directory_size / 46, "{}: corrupt zip archive ({} entries cannot fit a {}-byte directory)", origin_,
          count, directory_size);
  std::uint64_t position = directory_offset;
  for (std::uint64_t i = 0; i < count; ++i) {
    require(cursor.read(position, 4) == kCentralHeader, "{}: corrupt zip archive (entry {} of the directory)", origin_, i);
    const auto method = cursor.read(position + 10, 2);
    std::uint64_t compressed = cursor.read(position + 20, 4);
    std::uint64_t uncompressed = cursor.read(position + 24, 4);
    const auto name_length = cursor.read(position + 28, 2);
    const auto extra_length = cursor.read(position + 30, 2);
    const auto comment_length = cursor.read(position + 32, 2);
    std::uint64_t local_offset = cursor.read(position + 42, 4);
    const std::string name(cursor.slice(position + 46, name_length, "an entry name"));
    apply_zip64_extra(cursor.slice(position + 46 + name_length, extra_length, "an extra field"), uncompressed,
                      compressed, local_offset, origin_);
    require(method == 0, "{}: entry '{}' is compressed (method {}); torch.save stores entries uncompressed", origin_,
            name, method);
    require(compressed == uncompressed, "{}: entry '{}' has inconsistent sizes", origin_, name);
    require(cursor.read(local_offset, 4) == kLocalHeader, "{}: corrupt zip archive (no local header for '{}')", origin_,
            name);
    const auto local_name = cursor.read(local_offset + 26, 2);
    const auto local_extra = cursor.read(local_offset + 28, 2);
    entries_[name] = cursor.slice(local_offset + 30 + local_name + local_extra, uncompressed, "an entry's data");
    position += 46 + name_length + extra_length + comment_length;
  }
}

std::string_view ZipArchive::entry(const std::string& name) const {
  const auto found = entries_.find(name);
  require(found != entries_.end(), "{}: zip archive has no entry '{}'", origin_, name);
  return found->second;
}

}  // namespace cargovision
