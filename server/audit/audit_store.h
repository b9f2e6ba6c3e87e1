// AuditStore: where the audit log keeps its bytes, behind a small interface
// so that failing storage can be injected in tests (LevelDB's
// FaultInjectionTestEnv is the model).
//
// RocksDbAuditStore writes to the kAudit column family of the node's
// Database. FaultInjectingAuditStore wraps any store, counts writes and syncs,
// and fails them on demand. Both are thread-safe.
#ifndef HAVEN_SERVER_AUDIT_AUDIT_STORE_H_
#define HAVEN_SERVER_AUDIT_AUDIT_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/storage/database.h"

namespace haven::server::audit {

class AuditStore {
 public:
  using KeyValues = std::vector<std::pair<std::string, std::string>>;

  virtual ~AuditStore() = default;

  // Writes every pair atomically; with `sync`, returns only once the write
  // is on stable storage. Any error means the write may not be durable.
  virtual absl::Status Write(const KeyValues& puts, bool sync) = 0;
  // The value at `key`, or nullopt if absent.
  virtual absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) = 0;
};

// The production store: the kAudit family of `database`, which must outlive
// this object.
class RocksDbAuditStore : public AuditStore {
 public:
  explicit RocksDbAuditStore(storage::Database* database)
      : database_(database) {}

  absl::Status Write(const KeyValues& puts, bool sync) override;
  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) override;

 private:
  storage::Database* const database_;
};

// Wraps a store; fails writes or syncs on demand and counts them.
// `base` must outlive this object.
class FaultInjectingAuditStore : public AuditStore {
 public:
  explicit FaultInjectingAuditStore(AuditStore* base) : base_(base) {}

  // Every write fails with UNAVAILABLE and changes nothing.
  void set_fail_writes(bool fail) { fail_writes_ = fail; }
  // Synced writes are applied without the sync and then fail with
  // UNAVAILABLE, as a failed fsync leaves data that may not survive a crash.
  void set_fail_syncs(bool fail) { fail_syncs_ = fail; }

  int64_t writes() const { return writes_; }
  int64_t syncs() const { return syncs_; }

  absl::Status Write(const KeyValues& puts, bool sync) override;
  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) override {
    return base_->Get(key);
  }

 private:
  AuditStore* const base_;
  std::atomic<bool> fail_writes_{false};
  std::atomic<bool> fail_syncs_{false};
  std::atomic<int64_t> writes_{0};
  std::atomic<int64_t> syncs_{0};
};

}  // namespace haven::server::audit

#endif  // HAVEN_SERVER_AUDIT_AUDIT_STORE_H_
