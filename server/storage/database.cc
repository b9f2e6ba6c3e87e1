#include "server/storage/database.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace haven::server::storage {

absl::Status FromRocksDb(const rocksdb::Status& status,
                         absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": ", status.ToString());
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsNotFound()) return absl::NotFoundError(message);
  if (status.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  if (status.IsIOError() || status.IsBusy() || status.IsTimedOut() ||
      status.IsTryAgain()) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(Options options) {
  std::error_code ec;
  if (!options.create_if_missing &&
      !std::filesystem::is_directory(options.path, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("data dir ", options.path, " does not exist"));
  }
  rocksdb::Options db_options = options.rocksdb_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // Keep RocksDB's info log small; it holds file names and stats only.
  db_options.keep_log_file_num = 2;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kFamilyCount; ++i) {
    std::string name(FamilyName(static_cast<Family>(i)));
    if (i == 0) name = rocksdb::kDefaultColumnFamilyName;
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions(db_options));
  }
  std::unique_ptr<Database> database(new Database());
  database->path_ = options.path;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(
      db_options, options.path, descriptors, &database->handles_, &raw);
  if (!status.ok()) {
    if (status.IsIOError()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot open data dir ", options.path, ": ", status.ToString()));
    }
    return FromRocksDb(status, absl::StrCat("open ", options.path));
  }
  database->db_.reset(raw);
  return database;
}

Database::~Database() {
  if (db_ == nullptr) return;
  for (auto* handle : handles_) {
    db_->DestroyColumnFamilyHandle(handle);
  }
  db_->Close();
}

}  // namespace haven::server::storage
