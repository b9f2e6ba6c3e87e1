#include "server/audit/audit_store.h"

#include "rocksdb/write_batch.h"

namespace haven::server::audit {

absl::Status RocksDbAuditStore::Write(const KeyValues& puts, bool sync) {
  rocksdb::WriteBatch batch;
  auto* family = database_->family(storage::Family::kAudit);
  for (const auto& [key, value] : puts) {
    rocksdb::Status s = batch.Put(family, key, value);
    if (!s.ok()) return storage::FromRocksDb(s, "audit batch");
  }
  rocksdb::WriteOptions options;
  options.sync = sync;
  return storage::FromRocksDb(database_->db()->Write(options, &batch),
                              "audit write");
}

absl::StatusOr<std::optional<std::string>> RocksDbAuditStore::Get(
    absl::string_view key) {
  std::string value;
  rocksdb::Status s = database_->db()->Get(
      rocksdb::ReadOptions(), database_->family(storage::Family::kAudit),
      rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return storage::FromRocksDb(s, "audit read");
  return value;
}

absl::Status FaultInjectingAuditStore::Write(const KeyValues& puts, bool sync) {
  if (fail_writes_) {
    return absl::UnavailableError("injected audit write failure");
  }
  if (sync && fail_syncs_) {
    if (auto s = base_->Write(puts, /*sync=*/false); !s.ok()) return s;
    return absl::UnavailableError("injected audit sync failure");
  }
  ++writes_;
  if (sync) ++syncs_;
  return base_->Write(puts, sync);
}

}  // namespace haven::server::audit
