// Database: the node's one RocksDB instance and its column families, opened
// with the settings its durability depends on.
//
// Only RocksDbStorage (the Storage seam) and tools or tests that inspect or
// tamper with a data dir use it directly; the node's modules write through
// Storage. This is also the one place a rocksdb::Status becomes an
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
#include "server/storage/storage.h"

namespace haven::server::storage {

// Converts a RocksDB status. `what` names the operation; the message keeps
// RocksDB's own text (file names, codes; never values), so it is for the
// operator's log, not for callers.
absl::Status FromRocksDb(const rocksdb::Status& status, absl::string_view what);

class Database {
 public:
  struct Options {
    std::string path;
    // Create the database if it does not exist (a new node).
    bool create_if_missing = true;
    // Tests may tune RocksDB; the node uses defaults plus the settings in
    // database.cc.
    rocksdb::Options rocksdb_options;
  };

  // Opens or creates the database. FAILED_PRECONDITION with the path named if
  // the directory is missing or unreadable; DATA_LOSS if RocksDB reports
  // corruption.
  //
  // The write-ahead log is recovered to the last consistent point
  // (kPointInTimeRecovery): replay stops at the first damaged or missing
  // record and keeps everything before it. Every action of the node is one
  // write-ahead log record, so what survives is a consistent prefix of the
  // node's history; a prefix that lost acknowledged writes is caught by the
  // audit log's checkpoint kept outside the database (see audit_log.h).
  static absl::StatusOr<std::unique_ptr<Database>> Open(Options options);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* family(Family f) const {
    return handles_[static_cast<int>(f)];
  }
  const std::string& path() const { return path_; }

 private:
  Database() = default;

  std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace haven::server::storage

#endif  // HAVEN_SERVER_STORAGE_DATABASE_H_
