#include "cargovision/io/lmdb_store.h"

#include <fmt/format.h>
#include <lmdb.h>

#include <filesystem>

#include "cargovision/core/error.h"

namespace cargovision {
namespace {

void check(int rc, const std::string& path, const char* what) {
  if (rc != MDB_SUCCESS) throw Error(fmt::format("{}: LMDB {} failed: {}", path, what, mdb_strerror(rc)));
}

}  // namespace

std::string lmdb_image_key(std::size_t index) { return fmt::format("image-{:09d}", index); }
std::string lmdb_label_key(std::size_t index) { return fmt::format("label-{:09d}", index); }

LmdbReader::LmdbReader(const std::string& directory) : directory_(directory) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(directory)) throw Error(directory + ": LMDB folder does not exist");
  if (!fs::exists(fs::path(directory) / "data.mdb")) throw Error(directory + ": not an LMDB (no data.mdb inside)");
  check(mdb_env_create(&env_), directory, "env_create");
  mdb_env_set_maxreaders(env_, 126);
  const int rc = mdb_env_open(env_, directory.c_str(), MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS | MDB_NORDAHEAD, 0444);
  if (rc != MDB_SUCCESS) {
    mdb_env_close(env_);
    env_ = nullptr;
    check(rc, directory, "open");
  }
  MDB_txn* txn = nullptr;
  check(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), directory, "txn_begin");
  MDB_dbi dbi = 0;
  const int open_rc = mdb_dbi_open(txn, nullptr, 0, &dbi);
  mdb_txn_abort(txn);
  check(open_rc, directory, "dbi_open");
  dbi_ = dbi;
}

LmdbReader::~LmdbReader() {
  if (env_ != nullptr) mdb_env_close(env_);
}

std::optional<std::string> LmdbReader::get(std::string_view key) const {
  MDB_txn* txn = nullptr;
  check(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), directory_, "txn_begin");
  MDB_val mdb_key{key.size(), const_cast<char*>(key.data())};
  MDB_val value{0, nullptr};
  const int rc = mdb_get(txn, dbi_, &mdb_key, &value);
  std::optional<std::string> result;
  if (rc == MDB_SUCCESS) result.emplace(static_cast<const char*>(value.mv_data), value.mv_size);
  mdb_txn_abort(txn);
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) check(rc, directory_, "get");
  return result;
}

LmdbWriter::LmdbWriter(const std::string& directory, std::size_t initial_map_size)
    : directory_(directory), map_size_(initial_map_size) {
  std::filesystem::create_directories(directory);
  check(mdb_env_create(&env_), directory, "env_create");
  check(mdb_env_set_mapsize(env_, map_size_), directory, "set_mapsize");
  const int rc = mdb_env_open(env_, directory.c_str(), 0, 0664);
  if (rc != MDB_SUCCESS) {
    mdb_env_close(env_);
    env_ = nullptr;
    check(rc, directory, "open");
  }
}

LmdbWriter::~LmdbWriter() {
  if (env_ != nullptr) mdb_env_close(env_);
}

void LmdbWriter::commit(const std::vector<std::pair<std::string, std::string>>& records) {
  for (;;) {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env_, nullptr, 0, &txn), directory_, "txn_begin");
    MDB_dbi dbi = 0;
    int rc = mdb_dbi_open(txn, nullptr, 0, &dbi);
    for (std::size_t i = 0; rc == MDB_SUCCESS && i < records.size(); ++i) {
      MDB_val key{records[i].first.size(), const_cast<char*>(records[i].first.data())};
      MDB_val value{records[i].second.size(), const_cast<char*>(records[i].second.data())};
      rc = mdb_put(txn, dbi, &key, &value, 0);
    }
    if (rc == MDB_SUCCESS) rc = mdb_txn_commit(txn);
    else mdb_txn_abort(txn);
    if (rc == MDB_SUCCESS) return;
    if (rc != MDB_MAP_FULL) check(rc, directory_, "write");
    map_size_ *= 2;
    check(mdb_env_set_mapsize(env_, map_size_), directory_, "set_mapsize");
  }
}

}  // namespace cargovision
