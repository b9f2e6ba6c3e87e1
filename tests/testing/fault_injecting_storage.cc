#include "tests/testing/fault_injecting_storage.h"

#include <algorithm>
#include <utility>

namespace haven::testing {

using server::storage::Family;
using server::storage::WriteBatch;

void FaultInjectingStorage::FailWriteAt(int64_t n) {
  absl::MutexLock lock(&mu_);
  fail_write_at_ = n;
}

void FaultInjectingStorage::FailSyncAt(int64_t n) {
  absl::MutexLock lock(&mu_);
  fail_sync_at_ = n;
}

void FaultInjectingStorage::CrashAt(int64_t n) {
  absl::MutexLock lock(&mu_);
  crash_at_ = n;
}

void FaultInjectingStorage::FailSideFileWrites(bool fail) {
  absl::MutexLock lock(&mu_);
  fail_side_files_ = fail;
}

int64_t FaultInjectingStorage::writes() const {
  absl::MutexLock lock(&mu_);
  return writes_;
}

int64_t FaultInjectingStorage::syncs() const {
  absl::MutexLock lock(&mu_);
  return syncs_;
}

bool FaultInjectingStorage::crashed() const {
  absl::MutexLock lock(&mu_);
  return crashed_;
}

void FaultInjectingStorage::Apply(const WriteBatch& batch) {
  for (const WriteBatch::Op& op : batch.ops()) {
    Table& table = tables_[static_cast<int>(op.family)];
    if (op.value.has_value()) {
      table[op.key] = *op.value;
    } else {
      table.erase(op.key);
    }
  }
}

absl::Status FaultInjectingStorage::DoWrite(const WriteBatch& batch,
                                            bool sync) {
  absl::MutexLock lock(&mu_);
  const int64_t index = writes_++;
  if (crashed_ || (crash_at_.has_value() && index >= *crash_at_)) {
    crashed_ = true;
    return absl::UnavailableError("injected crash: the process died here");
  }
  if (fail_write_at_.has_value() && index == *fail_write_at_) {
    return absl::UnavailableError("injected write failure");
  }
  if (sync && fail_sync_at_.has_value() && index == *fail_sync_at_) {
    // In the log, not synced, and not visible: RocksDB applies a batch to
    // its memtable only once the log write (and its sync) succeeded.
    wal_.push_back({batch, /*synced=*/false, /*visible=*/false, false});
    return absl::UnavailableError("injected sync failure (EIO)");
  }
  wal_.push_back({batch, false, true, false});
  if (sync) {
    for (Record& r : wal_) r.synced = true;
    ++syncs_;
  }
  Apply(batch);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> FaultInjectingStorage::Get(
    Family family, absl::string_view key) const {
  absl::MutexLock lock(&mu_);
  const Table& table = tables_[static_cast<int>(family)];
  auto it = table.find(key);
  if (it == table.end()) return std::nullopt;
  return it->second;
}

absl::Status FaultInjectingStorage::ScanFrom(Family family,
                                             absl::string_view prefix,
                                             absl::string_view start,
                                             ScanFn fn) const {
  // Copied out so `fn` may call back into the storage.
  std::vector<std::pair<std::string, std::string>> rows;
  {
    absl::MutexLock lock(&mu_);
    const Table& table = tables_[static_cast<int>(family)];
    for (auto it = table.lower_bound(std::max(prefix, start));
         it != table.end() &&
         absl::string_view(it->first).substr(0, prefix.size()) == prefix;
         ++it) {
      rows.emplace_back(it->first, it->second);
    }
  }
  for (const auto& [key, value] : rows) {
    if (!fn(key, value)) break;
  }
  return absl::OkStatus();
}

absl::Status FaultInjectingStorage::DoWriteSideFile(absl::string_view name,
                                                    absl::string_view bytes) {
  absl::MutexLock lock(&mu_);
  if (crashed_) return absl::UnavailableError("injected crash");
  if (fail_side_files_) {
    return absl::UnavailableError("injected side file write failure");
  }
  side_files_[std::string(name)] = std::string(bytes);
  return absl::OkStatus();
}

absl::Status FaultInjectingStorage::DoOverwriteSideFile(
    absl::string_view name, size_t offset, absl::string_view bytes) {
  absl::MutexLock lock(&mu_);
  if (crashed_) return absl::UnavailableError("injected crash");
  if (fail_side_files_) {
    return absl::UnavailableError("injected side file write failure");
  }
  std::string& file = side_files_[std::string(name)];
  if (file.size() < offset + bytes.size()) file.resize(offset + bytes.size());
  file.replace(offset, bytes.size(), bytes.data(), bytes.size());
  return absl::OkStatus();
}

absl::Status FaultInjectingStorage::DoRemoveSideFile(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  if (crashed_) return absl::UnavailableError("injected crash");
  if (fail_side_files_) {
    return absl::UnavailableError("injected side file write failure");
  }
  side_files_.erase(std::string(name));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> FaultInjectingStorage::ReadSideFile(
    absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  auto it = side_files_.find(name);
  if (it == side_files_.end()) return std::nullopt;
  return it->second;
}

std::unique_ptr<FaultInjectingStorage> FaultInjectingStorage::Restart(
    Unsynced unsynced) const {
  // Copied out first: the two storages' locks are never held together.
  std::vector<Table> base;
  std::vector<Record> kept;
  std::map<std::string, std::string, std::less<>> side_files;
  {
    absl::MutexLock lock(&mu_);
    base.assign(std::begin(base_), std::end(base_));
    // Unsynced records can only be at the tail: a sync covers all before.
    size_t end = wal_.size();
    if (unsynced == Unsynced::kDrop) {
      while (end > 0 && !wal_[end - 1].synced) --end;
    }
    for (size_t i = 0; i < end; ++i) {
      if (wal_[i].corrupt) break;
      Record record = wal_[i];
      record.synced = true;
      record.visible = true;
      kept.push_back(std::move(record));
    }
    side_files = side_files_;
  }
  auto next = std::make_unique<FaultInjectingStorage>();
  absl::MutexLock next_lock(&next->mu_);
  for (int f = 0; f < server::storage::kFamilyCount; ++f) {
    next->base_[f] = std::move(base[f]);
  }
  next->wal_ = std::move(kept);
  next->Rebuild();
  next->side_files_ = std::move(side_files);
  return next;
}

void FaultInjectingStorage::Rebuild() {
  for (int f = 0; f < server::storage::kFamilyCount; ++f) {
    tables_[f] = base_[f];
  }
  for (const Record& r : wal_) {
    if (r.visible) Apply(r.batch);
  }
}

size_t FaultInjectingStorage::wal_records() const {
  absl::MutexLock lock(&mu_);
  return wal_.size();
}

void FaultInjectingStorage::TruncateWal(size_t records) {
  absl::MutexLock lock(&mu_);
  if (records < wal_.size()) wal_.resize(records);
}

void FaultInjectingStorage::CorruptWalRecord(size_t index) {
  absl::MutexLock lock(&mu_);
  if (index < wal_.size()) wal_[index].corrupt = true;
}

void FaultInjectingStorage::Tamper(Family family, const std::string& key,
                                   std::optional<std::string> value) {
  absl::MutexLock lock(&mu_);
  // As with a stopped node's data dir: what the log held is in the tables
  // now, and the edit goes to them.
  for (int f = 0; f < server::storage::kFamilyCount; ++f) {
    base_[f] = tables_[f];
  }
  wal_.clear();
  Table& table = base_[static_cast<int>(family)];
  if (value.has_value()) {
    table[key] = *std::move(value);
  } else {
    table.erase(key);
  }
  Rebuild();
}

std::vector<std::string> FaultInjectingStorage::Keys(Family family) const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> keys;
  for (const auto& [key, value] : tables_[static_cast<int>(family)]) {
    keys.push_back(key);
  }
  return keys;
}

}  // namespace haven::testing
