#pragma once
// A read-only view of the zip archives torch.save writes since PyTorch 1.6: entries are stored
// uncompressed, so each one is a slice of the file's bytes. Every offset and size is checked against
// the buffer: a truncated or hostile file gives an Error, never a read outside it. Torch-free.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace cargovision {

class ZipArchive {
 public:
  // `bytes` must outlive the archive; `origin` names the file in messages.
  ZipArchive(std::string_view bytes, std::string origin);

  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  // The stored bytes of an entry; Error naming the entry when it is absent.
  std::string_view entry(const std::string& name) const;
  const std::map<std::string, std::string_view>& entries() const { return entries_; }

 private:
  std::string origin_;
  std::map<std::string, std::string_view> entries_;
};

// True when the bytes start like a zip file (local header signature "PK\3\4").
bool looks_like_zip(std::string_view bytes);

}  // namespace cargovision
