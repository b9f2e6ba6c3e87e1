// FaultInjectingStorage: an in-memory Storage that models a write-ahead log
// and a disk that fails, for crash and bad-disk tests (LevelDB's
// FaultInjectionTestEnv is the model).
//
// Every write appends one record to a modelled write-ahead log and, once it
// is in the log, becomes visible to reads (as RocksDB inserts into its
// memtable only after the log write). A synced write makes its record and
// every earlier one durable. Faults are set by the index of the write they
// hit (0 is the first write this storage sees):
//
//   FailWriteAt(n)  write n fails and leaves nothing;
//   FailSyncAt(n)   write n reaches the log but its sync fails: it is not
//                   visible, and whether it survives a restart is the
//                   restart's choice (a real disk may or may not have it);
//   CrashAt(n)      the process dies at write n: that write and everything
//                   after it (writes and side files) is lost.
//
// Restart() gives the storage a new process would find. The modelled log
// can also be cut (TruncateWal) or damaged (CorruptWalRecord) in between,
// and restarts recover it as RocksDB's kPointInTimeRecovery does: replay
// stops at the first damaged record.
//
// Thread-safe.
#ifndef HAVEN_TESTS_TESTING_FAULT_INJECTING_STORAGE_H_
#define HAVEN_TESTS_TESTING_FAULT_INJECTING_STORAGE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/storage/storage.h"

namespace haven::testing {

class FaultInjectingStorage final : public server::storage::Storage {
 public:
  enum class Unsynced {
    kDrop,  // writes not yet synced are lost (power cut)
    kKeep,  // they survive (the bytes had reached the disk)
  };

  FaultInjectingStorage() = default;

  void FailWriteAt(int64_t n);
  void FailSyncAt(int64_t n);
  void CrashAt(int64_t n);
  // Side-file writes fail from now on (or stop failing).
  void FailSideFileWrites(bool fail);

  // Writes seen so far (the index the next write will have).
  int64_t writes() const;
  // Synced writes that succeeded.
  int64_t syncs() const;
  // Whether a crash was injected and reached.
  bool crashed() const;

  // The storage a restarted process finds: the surviving log replayed,
  // side files as last written, no faults set, counters at zero.
  std::unique_ptr<FaultInjectingStorage> Restart(Unsynced unsynced) const;

  // Records in the modelled write-ahead log.
  size_t wal_records() const;
  // Keeps the first `records` records of the log (a cut tail).
  void TruncateWal(size_t records);
  // Damages record `index`: a restart replays only the records before it.
  void CorruptWalRecord(size_t index);

  absl::StatusOr<std::optional<std::string>> Get(
      server::storage::Family family, absl::string_view key) const override;
  absl::Status ScanFrom(server::storage::Family family,
                        absl::string_view prefix, absl::string_view start,
                        ScanFn fn) const override;
  absl::StatusOr<std::optional<std::string>> ReadSideFile(
      absl::string_view name) const override;

  // Edits the stored state directly, as a tool with the data dir (and no
  // key) could on a stopped node: everything in the log so far is taken as
  // flushed, then `key` is set (or deleted with nullopt). For tampering
  // tests.
  void Tamper(server::storage::Family family, const std::string& key,
              std::optional<std::string> value);
  // Every key of `family`, in order.
  std::vector<std::string> Keys(server::storage::Family family) const;

 protected:
  absl::Status DoWrite(const server::storage::WriteBatch& batch,
                       bool sync) override;
  absl::Status DoCompact(server::storage::Family, absl::string_view,
                         absl::string_view) override {
    return absl::OkStatus();
  }
  absl::Status DoWriteSideFile(absl::string_view name,
                               absl::string_view bytes) override;
  absl::Status DoOverwriteSideFile(absl::string_view name, size_t offset,
                                   absl::string_view bytes) override;
  absl::Status DoRemoveSideFile(absl::string_view name) override;

 private:
  struct Record {
    server::storage::WriteBatch batch;
    bool synced = false;
    bool visible = true;
    bool corrupt = false;
  };
  using Table = std::map<std::string, std::string, std::less<>>;

  void Apply(const server::storage::WriteBatch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The tables from the base and the visible log records.
  void Rebuild() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  // What was flushed before this process started (or edited directly),
  // the log since, and the two together as reads see them.
  Table base_[server::storage::kFamilyCount] ABSL_GUARDED_BY(mu_);
  std::vector<Record> wal_ ABSL_GUARDED_BY(mu_);
  Table tables_[server::storage::kFamilyCount] ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string, std::less<>> side_files_
      ABSL_GUARDED_BY(mu_);
  int64_t writes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<int64_t> fail_write_at_ ABSL_GUARDED_BY(mu_);
  std::optional<int64_t> fail_sync_at_ ABSL_GUARDED_BY(mu_);
  std::optional<int64_t> crash_at_ ABSL_GUARDED_BY(mu_);
  bool crashed_ ABSL_GUARDED_BY(mu_) = false;
  bool fail_side_files_ ABSL_GUARDED_BY(mu_) = false;
};

// A Storage that forwards to one it does not own, so that a test keeps the
// storage (to restart from it) when what used it (a node) is destroyed.
// `target` must outlive it. Thread-safe.
class StorageRef final : public server::storage::Storage {
 public:
  explicit StorageRef(server::storage::Storage* target) : target_(target) {}

  absl::StatusOr<std::optional<std::string>> Get(
      server::storage::Family family, absl::string_view key) const override {
    return target_->Get(family, key);
  }
  absl::Status ScanFrom(server::storage::Family family,
                        absl::string_view prefix, absl::string_view start,
                        ScanFn fn) const override {
    return target_->ScanFrom(family, prefix, start, fn);
  }
  absl::StatusOr<std::optional<std::string>> ReadSideFile(
      absl::string_view name) const override {
    return target_->ReadSideFile(name);
  }

 protected:
  absl::Status DoWrite(const server::storage::WriteBatch& batch,
                       bool sync) override {
    return target_->Write(batch, sync);
  }
  absl::Status DoCompact(server::storage::Family family,
                         absl::string_view begin,
                         absl::string_view end) override {
    return target_->Compact(family, begin, end);
  }
  absl::Status DoWriteSideFile(absl::string_view name,
                               absl::string_view bytes) override {
    return target_->WriteSideFile(name, bytes);
  }
  absl::Status DoOverwriteSideFile(absl::string_view name, size_t offset,
                                   absl::string_view bytes) override {
    return target_->OverwriteSideFile(name, offset, bytes);
  }
  absl::Status DoRemoveSideFile(absl::string_view name) override {
    return target_->RemoveSideFile(name);
  }

 private:
  server::storage::Storage* const target_;
};

}  // namespace haven::testing

#endif  // HAVEN_TESTS_TESTING_FAULT_INJECTING_STORAGE_H_
