#include "server/consent/consent_store.h"

#include <memory>

#include "rocksdb/write_batch.h"

namespace haven::server::consent {

absl::Status RocksDbConsentStore::Write(const KeyValues& puts) {
  return WriteBatch(puts, /*sync=*/true);
}

absl::Status RocksDbConsentStore::WriteUnsynced(const KeyValues& puts) {
  return WriteBatch(puts, /*sync=*/false);
}

absl::Status RocksDbConsentStore::WriteBatch(const KeyValues& puts, bool sync) {
  rocksdb::WriteBatch batch;
  auto* family = db_->family(storage::Family::kConsent);
  for (const auto& [key, value] : puts) {
    rocksdb::Status s = batch.Put(family, key, value);
    if (!s.ok()) return storage::FromRocksDb(s, "consent batch");
  }
  rocksdb::WriteOptions options;
  options.sync = sync;
  return storage::FromRocksDb(db_->db()->Write(options, &batch),
                              "consent write");
}

absl::Status RocksDbConsentStore::Scan(
    absl::string_view prefix,
    const std::function<void(const std::string&, const std::string&)>& fn)
    const {
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(
      rocksdb::ReadOptions(), db_->family(storage::Family::kConsent)));
  const rocksdb::Slice p(prefix.data(), prefix.size());
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
    fn(it->key().ToString(), it->value().ToString());
  }
  return storage::FromRocksDb(it->status(), "consent scan");
}

}  // namespace haven::server::consent
