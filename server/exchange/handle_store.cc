#include "server/exchange/handle_store.h"

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/crypto/key_derivation.h"

namespace haven::server::exchange {
namespace {

constexpr char kIssuedPrefix[] = "exchange/issued/";
constexpr char kBySubjectPrefix[] = "exchange/by-subject/";
constexpr char kReceivedPrefix[] = "exchange/received/";

absl::Status NotFound() {
  return absl::NotFoundError("no such subject handle for this agency");
}

}  // namespace

absl::StatusOr<haven::v1::SubjectHandle> HandleStore::IssueHandle(
    const std::string& holder, const std::string& subject_id,
    const std::string& grantee, absl::Time now) {
  auto* family = db_->family(storage::Family::kMeta);
  std::string index_key =
      absl::StrCat(kBySubjectPrefix, subject_id, "/", grantee);
  std::string existing;
  rocksdb::Status s =
      db_->db()->Get(rocksdb::ReadOptions(), family, index_key, &existing);
  if (s.ok()) {
    std::string value;
    s = db_->db()->Get(rocksdb::ReadOptions(), family,
                       absl::StrCat(kIssuedPrefix, existing), &value);
    haven::v1::IssuedHandle issued;
    if (s.ok() && issued.ParseFromString(value)) return issued.handle();
    return absl::DataLossError("handle index refers to a missing handle");
  }
  if (!s.IsNotFound()) return storage::FromRocksDb(s, "read handle index");

  haven::v1::IssuedHandle issued;
  issued.mutable_handle()->set_handle(crypto::RandomHexId(16));
  issued.mutable_handle()->set_holder_agency_id(holder);
  issued.mutable_handle()->set_grantee_agency_id(grantee);
  issued.mutable_handle()->set_issued_unix(absl::ToUnixSeconds(now));
  issued.set_subject_id(subject_id);
  rocksdb::WriteBatch batch;
  batch.Put(family, absl::StrCat(kIssuedPrefix, issued.handle().handle()),
            issued.SerializeAsString());
  batch.Put(family, index_key, issued.handle().handle());
  if (auto w = db_->db()->Write(storage::SyncedWrite(), &batch); !w.ok()) {
    return storage::FromRocksDb(w, "store handle");
  }
  return issued.handle();
}

absl::StatusOr<std::string> HandleStore::Resolve(
    const std::string& handle, const std::string& grantee) const {
  if (handle.empty() || handle.size() > 64) return NotFound();
  std::string value;
  rocksdb::Status s = db_->db()->Get(
      rocksdb::ReadOptions(), db_->family(storage::Family::kMeta),
      absl::StrCat(kIssuedPrefix, handle), &value);
  if (s.IsNotFound()) return NotFound();
  if (!s.ok()) return storage::FromRocksDb(s, "read handle");
  haven::v1::IssuedHandle issued;
  if (!issued.ParseFromString(value)) {
    return absl::DataLossError("stored handle is corrupt");
  }
  // Same answer as for an unknown handle: a wrong agency learns nothing.
  if (issued.handle().grantee_agency_id() != grantee) return NotFound();
  return issued.subject_id();
}

absl::StatusOr<std::vector<haven::v1::SubjectHandle>>
HandleStore::HandlesForSubject(const std::string& subject_id) const {
  std::vector<haven::v1::SubjectHandle> handles;
  std::string prefix = absl::StrCat(kBySubjectPrefix, subject_id, "/");
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(
      rocksdb::ReadOptions(), db_->family(storage::Family::kMeta)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    std::string value;
    rocksdb::Status s = db_->db()->Get(
        rocksdb::ReadOptions(), db_->family(storage::Family::kMeta),
        absl::StrCat(kIssuedPrefix, it->value().ToString()), &value);
    haven::v1::IssuedHandle issued;
    if (s.ok() && issued.ParseFromString(value)) {
      handles.push_back(issued.handle());
    }
  }
  if (!it->status().ok())
    return storage::FromRocksDb(it->status(), "list handles");
  return handles;
}

absl::Status HandleStore::StoreReceived(
    const haven::v1::SubjectHandle& handle) {
  if (handle.handle().empty() || handle.holder_agency_id().empty()) {
    return absl::InvalidArgumentError("handle and holder are required");
  }
  rocksdb::Status s = db_->db()->Put(
      storage::SyncedWrite(), db_->family(storage::Family::kMeta),
      absl::StrCat(kReceivedPrefix, handle.holder_agency_id(), "/",
                   handle.handle()),
      handle.SerializeAsString());
  return storage::FromRocksDb(s, "store received handle");
}

absl::StatusOr<std::vector<haven::v1::SubjectHandle>>
HandleStore::ListReceived() const {
  std::vector<haven::v1::SubjectHandle> handles;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(
      rocksdb::ReadOptions(), db_->family(storage::Family::kMeta)));
  const std::string prefix = kReceivedPrefix;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    haven::v1::SubjectHandle handle;
    if (!handle.ParseFromString(it->value().ToString())) {
      return absl::DataLossError("stored received handle is corrupt");
    }
    handles.push_back(std::move(handle));
  }
  if (!it->status().ok())
    return storage::FromRocksDb(it->status(), "list handles");
  return handles;
}

}  // namespace haven::server::exchange
