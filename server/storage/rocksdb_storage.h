// RocksDbStorage: the production Storage, the node's RocksDB (Database)
// and side files in its data dir (named "haven-<name>", which RocksDB
// leaves alone).
//
// Every write is one rocksdb::WriteBatch; a synced write is one fdatasync of
// the write-ahead log, which also makes every earlier write durable. Error
// messages handed to callers name the operation only; RocksDB's own text
// (file paths included) goes to the write-failure handler, for the
// operator's log. Thread-safe.
#ifndef HAVEN_SERVER_STORAGE_ROCKSDB_STORAGE_H_
#define HAVEN_SERVER_STORAGE_ROCKSDB_STORAGE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "server/storage/database.h"
#include "server/storage/storage.h"

namespace haven::server::storage {

// The file name of side file `name` in a data dir ("haven-<name>"), for
// tools that work on a data dir the node has not opened (restore).
std::string SideFileName(absl::string_view name);
// fsync(2) of the file or directory at `path` (a directory: so that what
// was created or renamed in it is durable). UNAVAILABLE naming the path and
// the system's error otherwise.
absl::Status SyncPath(const std::string& path);
// Creates `path` (it must not exist) holding `bytes`, mode 0600, and syncs
// its data. UNAVAILABLE naming the path and the system's error otherwise.
absl::Status WriteNewFileSynced(const std::string& path,
                                absl::string_view bytes);

class RocksDbStorage final : public Storage {
 public:
  // Opens the database (see Database::Open for the errors).
  static absl::StatusOr<std::unique_ptr<RocksDbStorage>> Open(
      Database::Options options);

  absl::StatusOr<std::optional<std::string>> Get(
      Family family, absl::string_view key) const override;
  absl::Status ScanFrom(Family family, absl::string_view prefix,
                        absl::string_view start, ScanFn fn) const override;
  absl::StatusOr<std::optional<std::string>> ReadSideFile(
      absl::string_view name) const override;
  // A RocksDB checkpoint (hard links where `dir` is on the same file
  // system, copies elsewhere) plus copies of the side files.
  absl::StatusOr<uint64_t> CopyTo(const std::string& dir) const override;

  // The database itself, for benchmarks and tests.
  Database& database() { return *database_; }

 protected:
  absl::Status DoWrite(const WriteBatch& batch, bool sync) override;
  absl::Status DoCompact(Family family, absl::string_view begin,
                         absl::string_view end) override;
  absl::Status DoWriteSideFile(absl::string_view name,
                               absl::string_view bytes) override;
  absl::Status DoOverwriteSideFile(absl::string_view name, size_t offset,
                                   absl::string_view bytes) override;
  absl::Status DoRemoveSideFile(absl::string_view name) override;

 private:
  explicit RocksDbStorage(std::unique_ptr<Database> database)
      : database_(std::move(database)) {}
  std::string SideFilePath(absl::string_view name) const;

  const std::unique_ptr<Database> database_;
};

}  // namespace haven::server::storage

#endif  // HAVEN_SERVER_STORAGE_ROCKSDB_STORAGE_H_
