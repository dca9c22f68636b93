#pragma once
// A small RAII layer over LMDB for the OCR datasets: a read-only reader that many threads may share,
// and a writer that commits batches and grows the map as needed instead of reserving a huge one.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct MDB_env;

namespace cargovision {

class LmdbReader {
 public:
  // Opens the LMDB in `directory` (data.mdb inside) read-only without a lock file, as the original
  // reader does, so datasets on read-only media work. Throws Error naming the path when absent.
  explicit LmdbReader(const std::string& directory);
  ~LmdbReader();
  LmdbReader(const LmdbReader&) = delete;
  LmdbReader& operator=(const LmdbReader&) = delete;

  // The value of a key, or nothing when the key is absent. Safe to call from several threads.
  std::optional<std::string> get(std::string_view key) const;
  const std::string& path() const { return directory_; }

 private:
  std::string directory_;
  MDB_env* env_ = nullptr;
  unsigned int dbi_ = 0;
};

class LmdbWriter {
 public:
  // Creates (or opens) the LMDB in `directory`, creating the folder.
  explicit LmdbWriter(const std::string& directory, std::size_t initial_map_size = std::size_t{64} << 20);
  ~LmdbWriter();
  LmdbWriter(const LmdbWriter&) = delete;
  LmdbWriter& operator=(const LmdbWriter&) = delete;

  // Writes all pairs in one transaction; when the map is full the transaction is retried with a map
  // twice as large, so either every pair is committed or none is.
  void commit(const std::vector<std::pair<std::string, std::string>>& records);
  std::size_t map_size() const { return map_size_; }

 private:
  std::string directory_;
  MDB_env* env_ = nullptr;
  std::size_t map_size_;
};

// The original's key names: image-%09d, label-%09d (1-based), num-samples.
std::string lmdb_image_key(std::size_t index);
std::string lmdb_label_key(std::size_t index);
inline constexpr const char* kLmdbSampleCountKey = "num-samples";

}  // namespace cargovision
