#include "server/storage/rocksdb_storage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"

namespace haven::server::storage {
namespace {

constexpr size_t kMaxSideFileBytes = 1 << 20;

rocksdb::Slice ToSlice(absl::string_view s) { return {s.data(), s.size()}; }

// A read failure as callers see it: what failed, never a path.
absl::Status ReadFailed(const rocksdb::Status& status, absl::string_view what) {
  if (status.IsCorruption()) {
    return absl::DataLossError(
        absl::StrCat(what, ": the database is corrupt (see the node's log)"));
  }
  return absl::UnavailableError(absl::StrCat(what, ": the database failed"));
}

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Syncs the directory holding `path`, so a rename in it is durable.
absl::Status SyncDirectoryOf(const std::string& path) {
  std::string dir = path.substr(0, path.rfind('/'));
  if (dir.empty()) dir = ".";
  return SyncPath(dir);
}

// Writes all of `bytes` to `fd` at `offset` (pwrite, or write at the file
// position when `offset` is negative), fdatasyncs and closes it; `fd` is
// closed whatever happens.
absl::Status WriteSyncAndClose(int fd, absl::string_view bytes, off_t offset,
                               const std::string& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = offset < 0
                    ? ::write(fd, bytes.data() + done, bytes.size() - done)
                    : ::pwrite(fd, bytes.data() + done, bytes.size() - done,
                               offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status failed = Errno("write", path);
      ::close(fd);
      return failed;
    }
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd) != 0) {
    absl::Status failed = Errno("sync", path);
    ::close(fd);
    return failed;
  }
  if (::close(fd) != 0) return Errno("close", path);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<RocksDbStorage>> RocksDbStorage::Open(
    Database::Options options) {
  auto database = Database::Open(std::move(options));
  if (!database.ok()) return database.status();
  return std::unique_ptr<RocksDbStorage>(
      new RocksDbStorage(*std::move(database)));
}

absl::Status RocksDbStorage::DoWrite(const WriteBatch& batch, bool sync) {
  rocksdb::WriteBatch rocks;
  for (const WriteBatch::Op& op : batch.ops()) {
    rocksdb::ColumnFamilyHandle* family = database_->family(op.family);
    rocksdb::Status s = op.value.has_value()
                            ? rocks.Put(family, op.key, *op.value)
                            : rocks.Delete(family, op.key);
    if (!s.ok()) return FromRocksDb(s, "prepare write");
  }
  rocksdb::WriteOptions options;
  options.sync = sync;
  return FromRocksDb(database_->db()->Write(options, &rocks),
                     sync ? "synced write" : "write");
}

absl::StatusOr<std::optional<std::string>> RocksDbStorage::Get(
    Family family, absl::string_view key) const {
  std::string value;
  rocksdb::Status s = database_->db()->Get(
      rocksdb::ReadOptions(), database_->family(family), ToSlice(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return ReadFailed(s, "read");
  return value;
}

absl::Status RocksDbStorage::ScanFrom(Family family, absl::string_view prefix,
                                      absl::string_view start,
                                      ScanFn fn) const {
  std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(
      rocksdb::ReadOptions(), database_->family(family)));
  const rocksdb::Slice p = ToSlice(prefix);
  for (it->Seek(ToSlice(std::max(prefix, start)));
       it->Valid() && it->key().starts_with(p); it->Next()) {
    if (!fn(absl::string_view(it->key().data(), it->key().size()),
            absl::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  if (!it->status().ok()) return ReadFailed(it->status(), "scan");
  return absl::OkStatus();
}

absl::Status RocksDbStorage::DoCompact(Family family, absl::string_view begin,
                                       absl::string_view end) {
  // Flush every family first, so the write-ahead log holding old values
  // becomes obsolete and is deleted; then rewrite the range's files.
  rocksdb::FlushOptions flush;
  flush.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> all;
  for (int i = 0; i < kFamilyCount; ++i) {
    all.push_back(database_->family(static_cast<Family>(i)));
  }
  if (auto s = database_->db()->Flush(flush, all); !s.ok()) {
    return FromRocksDb(s, "flush");
  }
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForce;
  rocksdb::Slice b = ToSlice(begin);
  rocksdb::Slice e = ToSlice(end);
  return FromRocksDb(
      database_->db()->CompactRange(compact, database_->family(family),
                                    begin.empty() ? nullptr : &b,
                                    end.empty() ? nullptr : &e),
      "compact");
}

absl::Status SyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  const int synced = ::fsync(fd);
  ::close(fd);
  if (synced != 0) return Errno("sync", path);
  return absl::OkStatus();
}

absl::Status WriteNewFileSynced(const std::string& path,
                                absl::string_view bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create", path);
  return WriteSyncAndClose(fd, bytes, -1, path);
}

std::string SideFileName(absl::string_view name) {
  return absl::StrCat("haven-", name);
}

std::string RocksDbStorage::SideFilePath(absl::string_view name) const {
  return absl::StrCat(database_->path(), "/", SideFileName(name));
}

absl::StatusOr<uint64_t> RocksDbStorage::CopyTo(const std::string& dir) const {
  // Side files first: each is rewritten after the database commit it
  // describes, so read before the checkpoint it is never ahead of it.
  std::vector<std::pair<std::string, std::string>> side_files;
  std::error_code error;
  for (const auto& file :
       std::filesystem::directory_iterator(database_->path(), error)) {
    const std::string file_name = file.path().filename().string();
    const std::string prefix = SideFileName("");
    if (!absl::StartsWith(file_name, prefix)) continue;
    const std::string name = file_name.substr(prefix.size());
    if (!IsValidSideFileName(name)) continue;  // e.g. a ".tmp" being renamed
    HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                           ReadSideFile(name));
    if (bytes.has_value())
      side_files.emplace_back(file_name, *std::move(bytes));
  }
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot list the data dir: ", error.message()));
  }

  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status status = rocksdb::Checkpoint::Create(database_->db(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // Flushes the memtables first (log_size_for_flush 0), so the copy holds
  // every write acknowledged before this call.
  if (status.ok()) status = checkpoint->CreateCheckpoint(dir, 0);
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot copy the database to ",
                                               dir, ": ", status.ToString()));
  }
  if (::chmod(dir.c_str(), 0700) != 0) return Errno("chmod", dir);
  for (const auto& [file_name, bytes] : side_files) {
    HAVEN_RETURN_IF_ERROR(
        WriteNewFileSynced(absl::StrCat(dir, "/", file_name), bytes));
  }
  HAVEN_RETURN_IF_ERROR(SyncDirectoryOf(absl::StrCat(dir, "/x")));
  uint64_t bytes = 0;
  for (const auto& file : std::filesystem::directory_iterator(dir, error)) {
    if (file.is_regular_file(error)) bytes += file.file_size(error);
  }
  return bytes;
}

absl::Status RocksDbStorage::DoWriteSideFile(absl::string_view name,
                                             absl::string_view bytes) {
  const std::string path = SideFilePath(name);
  const std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create", temp);
  HAVEN_RETURN_IF_ERROR(WriteSyncAndClose(fd, bytes, -1, temp));
  if (::rename(temp.c_str(), path.c_str()) != 0) return Errno("rename", temp);
  return SyncDirectoryOf(path);
}

absl::Status RocksDbStorage::DoOverwriteSideFile(absl::string_view name,
                                                 size_t offset,
                                                 absl::string_view bytes) {
  const std::string path = SideFilePath(name);
  bool created = false;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    created = true;
  }
  if (fd < 0) return Errno("open", path);
  HAVEN_RETURN_IF_ERROR(
      WriteSyncAndClose(fd, bytes, static_cast<off_t>(offset), path));
  return created ? SyncDirectoryOf(path) : absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> RocksDbStorage::ReadSideFile(
    absl::string_view name) const {
  if (!IsValidSideFileName(name)) {
    return absl::InvalidArgumentError("side file names are [a-z0-9-]+");
  }
  const std::string path = SideFilePath(name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    return absl::UnavailableError(absl::StrCat("cannot read side file ", name,
                                               ": ", std::strerror(errno)));
  }
  std::string out;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return absl::UnavailableError(absl::StrCat("cannot read side file ", name,
                                                 ": ", std::strerror(errno)));
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
    if (out.size() > kMaxSideFileBytes) {
      ::close(fd);
      return absl::DataLossError(
          absl::StrCat("side file ", name, " is larger than it can be"));
    }
  }
  ::close(fd);
  return out;
}

absl::Status RocksDbStorage::DoRemoveSideFile(absl::string_view name) {
  const std::string path = SideFilePath(name);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return Errno("remove", path);
  }
  return SyncDirectoryOf(path);
}

}  // namespace haven::server::storage
