// Database: the node's one RocksDB instance and its column families.
//
// Every module of the server keeps its state here, each in its own column
// family, so that one WriteBatch can span modules when an operation must be
// atomic across them. This is also the one place a rocksdb::Status becomes an
// absl::Status. Thread-safe (RocksDB is).
#ifndef HAVEN_SERVER_STORAGE_DATABASE_H_
#define HAVEN_SERVER_STORAGE_DATABASE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rocksdb/db.h"

namespace haven::server::storage {

// Column families. Keys never hold personal data; values in kVault are
// ciphertext only.
enum class Family {
  kMeta = 0,     // node metadata: key check value, key versions, settings
  kVault = 1,    // encrypted records and wrapped data keys
  kConsent = 2,  // consent versions, refusals, handles
  kAudit = 3,    // audit log leaves, tree nodes, checkpoints
};
inline constexpr int kFamilyCount = 4;

// Converts a RocksDB status; `what` names the operation for the message and
// must not hold secrets or content.
absl::Status FromRocksDb(const rocksdb::Status& status, absl::string_view what);

// Options for a write that is on disk (fdatasync) when it returns.
inline rocksdb::WriteOptions SyncedWrite() {
  rocksdb::WriteOptions options;
  options.sync = true;
  return options;
}

class Database {
 public:
  struct Options {
    std::string path;
    // Create the database if it does not exist (a new node).
    bool create_if_missing = true;
    // Tests may tune RocksDB; the node uses defaults plus paranoid checks.
    rocksdb::Options rocksdb_options;
  };

  // Opens or creates the database. FAILED_PRECONDITION with the path named if
  // the directory is missing or unreadable; DATA_LOSS if RocksDB reports
  // corruption.
  static absl::StatusOr<std::unique_ptr<Database>> Open(Options options);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* family(Family f) const {
    return handles_[static_cast<int>(f)];
  }
  const std::string& path() const { return path_; }

  // Flushes memtables and compacts `family` over [begin, end) (both empty =
  // whole family), so deleted values leave every live file.
  absl::Status CompactRange(Family f, absl::string_view begin,
                            absl::string_view end);
  // Flushes every family's memtable to SST files.
  absl::Status Flush();

 private:
  Database() = default;

  std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace haven::server::storage

#endif  // HAVEN_SERVER_STORAGE_DATABASE_H_
