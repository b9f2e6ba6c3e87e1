// ConsentStore: where the consent registry keeps its bytes.
//
// A tiny key-value interface so the registry can be tested without a disk
// (MemoryConsentStore, which can also be told to fail) and run on the node's
// RocksDB (RocksDbConsentStore, the Database's kConsent family). Keys never
// hold personal data: they are made of node-made random ids. Implementations
// are thread-safe.
#ifndef HAVEN_SERVER_CONSENT_CONSENT_STORE_H_
#define HAVEN_SERVER_CONSENT_CONSENT_STORE_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/storage/database.h"

namespace haven::server::consent {

class ConsentStore {
 public:
  using KeyValues = std::vector<std::pair<std::string, std::string>>;
  virtual ~ConsentStore() = default;

  // Writes every pair atomically and durably (synced) before returning.
  virtual absl::Status Write(const KeyValues& puts) = 0;
  // Writes every pair atomically without waiting for the disk. The pairs
  // are durable once the next synced write to the same database returns:
  // RocksDB has one write-ahead log per database and a synced write syncs
  // all of it, earlier writes included.
  virtual absl::Status WriteUnsynced(const KeyValues& puts) = 0;
  // Calls `fn` for every key starting with `prefix`, in key order.
  virtual absl::Status Scan(
      absl::string_view prefix,
      const std::function<void(const std::string& key,
                               const std::string& value)>& fn) const = 0;
};

// In memory, for tests. Thread-safe.
class MemoryConsentStore final : public ConsentStore {
 public:
  absl::Status Write(const KeyValues& puts) override {
    absl::MutexLock lock(&mu_);
    if (fail_writes_)
      return absl::UnavailableError("consent store: write failed");
    for (const auto& [key, value] : puts) data_[key] = value;
    return absl::OkStatus();
  }
  absl::Status WriteUnsynced(const KeyValues& puts) override {
    return Write(puts);
  }
  absl::Status Scan(
      absl::string_view prefix,
      const std::function<void(const std::string&, const std::string&)>& fn)
      const override {
    absl::MutexLock lock(&mu_);
    const std::string p(prefix);
    for (auto it = data_.lower_bound(p);
         it != data_.end() && it->first.compare(0, p.size(), p) == 0; ++it) {
      fn(it->first, it->second);
    }
    return absl::OkStatus();
  }
  // Makes every later Write fail with UNAVAILABLE (until set back).
  void set_fail_writes(bool fail) {
    absl::MutexLock lock(&mu_);
    fail_writes_ = fail;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::string> data_ ABSL_GUARDED_BY(mu_);
  bool fail_writes_ ABSL_GUARDED_BY(mu_) = false;
};

// The Database's kConsent column family. `db` must outlive the store.
// Thread-safe (RocksDB is).
class RocksDbConsentStore final : public ConsentStore {
 public:
  explicit RocksDbConsentStore(storage::Database* db) : db_(db) {}
  absl::Status Write(const KeyValues& puts) override;
  absl::Status WriteUnsynced(const KeyValues& puts) override;
  absl::Status Scan(
      absl::string_view prefix,
      const std::function<void(const std::string&, const std::string&)>& fn)
      const override;

 private:
  absl::Status WriteBatch(const KeyValues& puts, bool sync);

  storage::Database* db_;
};

}  // namespace haven::server::consent

#endif  // HAVEN_SERVER_CONSENT_CONSENT_STORE_H_
