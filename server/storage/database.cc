#include "server/storage/database.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace haven::server::storage {
namespace {

constexpr const char* kFamilyNames[kFamilyCount] = {"default", "vault",
                                                    "consent", "audit"};

}  // namespace

absl::Status FromRocksDb(const rocksdb::Status& status,
                         absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  // RocksDB messages name files and codes, never values; keep them for
  // operators but prefix what we were doing.
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
  // Keep RocksDB's info log small; it holds file names and stats only.
  db_options.keep_log_file_num = 2;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kFamilyCount; ++i) {
    descriptors.emplace_back(kFamilyNames[i],
                             rocksdb::ColumnFamilyOptions(db_options));
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

absl::Status Database::CompactRange(Family f, absl::string_view begin,
                                    absl::string_view end) {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  if (auto s = db_->Flush(flush, family(f)); !s.ok()) {
    return FromRocksDb(s, "flush");
  }
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForce;
  rocksdb::Slice b(begin.data(), begin.size());
  rocksdb::Slice e(end.data(), end.size());
  rocksdb::Status s =
      db_->CompactRange(compact, family(f), begin.empty() ? nullptr : &b,
                        end.empty() ? nullptr : &e);
  return FromRocksDb(s, "compact");
}

absl::Status Database::Flush() {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  return FromRocksDb(db_->Flush(flush, handles_), "flush");
}

}  // namespace haven::server::storage
