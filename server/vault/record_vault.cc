#include "server/vault/record_vault.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "haven/base/status_macros.h"
#include "haven/v1/common.pb.h"
#include "server/crypto/aead.h"
#include "server/crypto/key_derivation.h"
#include "server/vault/envelope.h"

namespace haven::server::vault {
namespace {

using storage::Family;
using storage::FromRocksDb;

constexpr size_t kIdBytes = 16;
constexpr int kMaxIdAttempts = 8;

bool IsHexId(absl::string_view id) {
  if (id.size() != 2 * kIdBytes) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::Status CheckSubjectId(absl::string_view id) {
  if (IsHexId(id)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "subject id must be ", 2 * kIdBytes, " lower-case hex characters"));
}

absl::Status CheckRecordId(absl::string_view id) {
  if (IsHexId(id)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "record id must be ", 2 * kIdBytes, " lower-case hex characters"));
}

bool IsValidName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxFieldNameBytes) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

absl::Status ValidateFields(
    const google::protobuf::RepeatedPtrField<haven::v1::Field>& fields) {
  if (fields.empty() ||
      static_cast<size_t>(fields.size()) > kMaxFieldsPerRecord) {
    return absl::InvalidArgumentError(
        absl::StrCat("a record has 1 to ", kMaxFieldsPerRecord,
                     " fields; this one has ", fields.size()));
  }
  absl::flat_hash_set<absl::string_view> names;
  for (int i = 0; i < fields.size(); ++i) {
    const haven::v1::Field& f = fields[i];
    // Invalid names are not echoed: they might hold what they should not.
    if (!IsValidName(f.name())) {
      return absl::InvalidArgumentError(
          absl::StrCat("field #", i, " has an invalid name: use 1 to ",
                       kMaxFieldNameBytes, " characters of [a-z0-9_]"));
    }
    if (!names.insert(absl::string_view(f.name().data(), f.name().size()))
             .second) {
      return absl::InvalidArgumentError(
          absl::StrCat("field name \"", f.name(), "\" appears more than once"));
    }
    if (f.category() == haven::v1::CATEGORY_UNSPECIFIED ||
        !haven::v1::Category_IsValid(f.category())) {
      return absl::InvalidArgumentError(
          absl::StrCat("field \"", f.name(), "\" needs a known data category"));
    }
    if (f.value().size() > kMaxFieldValueBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("field \"", f.name(), "\" is ", f.value().size(),
                       " bytes; the limit is ", kMaxFieldValueBytes, " bytes"));
    }
  }
  return absl::OkStatus();
}

absl::Status RecordAuthFailure(absl::string_view subject_id,
                               absl::string_view record_id) {
  return absl::DataLossError(
      absl::StrCat("record ", record_id, " of subject ", subject_id,
                   " failed authentication (stored data altered or corrupt)"));
}

absl::Status UnknownSubject(absl::string_view subject_id) {
  return absl::NotFoundError(absl::StrCat("no subject ", subject_id));
}

rocksdb::Slice ToSlice(absl::string_view s) { return {s.data(), s.size()}; }

}  // namespace

RecordVault::RecordVault(Options options, std::unique_ptr<KekRegistry> registry)
    : db_(options.db),
      registry_(std::move(registry)),
      sync_(options.sync),
      cache_capacity_(options.data_key_cache_size),
      now_unix_(std::move(options.now_unix)) {}

absl::StatusOr<std::unique_ptr<RecordVault>> RecordVault::Create(
    Options options) {
  if (options.db == nullptr) {
    return absl::InvalidArgumentError("RecordVault needs a database");
  }
  KekRegistry::Options registry_options;
  registry_options.db = options.db;
  registry_options.master_key = std::move(options.master_key);
  registry_options.sync = options.sync;
  HAVEN_ASSIGN_OR_RETURN(auto registry,
                         KekRegistry::Open(std::move(registry_options)));
  return std::unique_ptr<RecordVault>(
      new RecordVault(std::move(options), std::move(registry)));
}

absl::Mutex& RecordVault::StripeFor(absl::string_view subject_id) const {
  return stripes_[absl::Hash<absl::string_view>{}(subject_id) % kStripes];
}

int64_t RecordVault::NowUnix() const {
  return now_unix_ ? now_unix_() : absl::ToUnixSeconds(absl::Now());
}

void RecordVault::CacheInsert(const std::string& subject_id,
                              std::shared_ptr<SubjectKey> key) const {
  if (cache_capacity_ == 0) return;
  absl::MutexLock lock(&cache_mu_);
  if (cache_.size() >= cache_capacity_ && !cache_.contains(subject_id)) {
    cache_.erase(cache_.begin());
  }
  cache_[subject_id] = std::move(key);
}

void RecordVault::CacheErase(const std::string& subject_id) const {
  absl::MutexLock lock(&cache_mu_);
  cache_.erase(subject_id);
}

absl::StatusOr<std::string> RecordVault::WrapDataKey(
    absl::string_view subject_id, const crypto::SecretBytes& data_key,
    uint32_t kek_version) const {
  HAVEN_ASSIGN_OR_RETURN(auto kek, registry_->Kek(kek_version));
  HAVEN_ASSIGN_OR_RETURN(
      std::string sealed,
      crypto::AeadSealSecret(*kek, data_key,
                             DataKeyAd(subject_id, kek_version)));
  return EncodeWrappedKey({kek_version, std::move(sealed)});
}

absl::StatusOr<std::shared_ptr<RecordVault::SubjectKey>>
RecordVault::LoadSubjectKey(absl::string_view subject_id) const {
  {
    absl::MutexLock lock(&cache_mu_);
    auto it = cache_.find(subject_id);
    if (it != cache_.end()) return it->second;
  }
  std::string stored;
  rocksdb::Status s = db_->db()->Get({}, db_->family(Family::kVault),
                                     DataKeyKey(subject_id), &stored);
  if (s.IsNotFound()) return UnknownSubject(subject_id);
  HAVEN_RETURN_IF_ERROR(FromRocksDb(s, "read data key"));
  auto damaged = [&] {
    return absl::DataLossError(absl::StrCat(
        "data key of subject ", subject_id,
        " failed authentication (stored data altered or corrupt)"));
  };
  std::optional<WrappedKey> wrapped = DecodeWrappedKey(stored);
  if (!wrapped.has_value()) return damaged();
  HAVEN_ASSIGN_OR_RETURN(auto kek, registry_->Kek(wrapped->kek_version));
  absl::StatusOr<crypto::SecretBytes> data_key = crypto::AeadOpenSecret(
      *kek, wrapped->sealed, DataKeyAd(subject_id, wrapped->kek_version));
  if (!data_key.ok() || data_key->size() != crypto::kAeadKeySize) {
    return damaged();
  }
  auto key = std::make_shared<SubjectKey>(std::move(data_key).value());
  CacheInsert(std::string(subject_id), key);
  return key;
}

absl::StatusOr<std::string> RecordVault::CreateSubject() {
  crypto::SecretBytes data_key =
      crypto::SecretBytes::Random(crypto::kAeadKeySize);
  auto* vault = db_->family(Family::kVault);
  for (int attempt = 0; attempt < kMaxIdAttempts; ++attempt) {
    std::string id = crypto::RandomHexId(kIdBytes);
    absl::WriterMutexLock subject_lock(&StripeFor(id));
    std::string existing;
    rocksdb::Status s = db_->db()->Get({}, vault, DataKeyKey(id), &existing);
    if (s.ok()) continue;  // 2^-128 odds; pick another id
    if (!s.IsNotFound()) return FromRocksDb(s, "read data key");
    // Held across reading the active version and writing, so a rotation
    // that has bumped the version sees every key wrapped under the old one.
    absl::ReaderMutexLock kek_lock(&kek_mu_);
    HAVEN_ASSIGN_OR_RETURN(
        std::string wrapped,
        WrapDataKey(id, data_key, registry_->active_version()));
    rocksdb::WriteOptions wo;
    wo.sync = sync_;
    HAVEN_RETURN_IF_ERROR(FromRocksDb(
        db_->db()->Put(wo, vault, DataKeyKey(id), wrapped), "write data key"));
    auto key = std::make_shared<SubjectKey>(std::move(data_key));
    key->record_count = 0;
    CacheInsert(id, std::move(key));
    return id;
  }
  return absl::InternalError("could not pick an unused subject id");
}

absl::StatusOr<RecordVault::PutResult> RecordVault::Put(
    absl::string_view subject_id, absl::string_view record_id,
    const google::protobuf::RepeatedPtrField<haven::v1::Field>& fields) {
  HAVEN_RETURN_IF_ERROR(CheckSubjectId(subject_id));
  if (!record_id.empty()) HAVEN_RETURN_IF_ERROR(CheckRecordId(record_id));
  HAVEN_RETURN_IF_ERROR(ValidateFields(fields));

  absl::WriterMutexLock subject_lock(&StripeFor(subject_id));
  HAVEN_ASSIGN_OR_RETURN(std::shared_ptr<SubjectKey> key,
                         LoadSubjectKey(subject_id));
  rocksdb::DB* db = db_->db();
  auto* vault = db_->family(Family::kVault);

  PutResult result;
  const bool is_new = record_id.empty();
  if (is_new) {
    if (key->record_count < 0) {
      std::string prefix = RecordPrefix(subject_id);
      std::string end = RecordRangeEnd(subject_id);
      rocksdb::Slice upper = ToSlice(end);
      rocksdb::ReadOptions ro;
      ro.iterate_upper_bound = &upper;
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, vault));
      int64_t count = 0;
      for (it->Seek(prefix); it->Valid(); it->Next()) ++count;
      HAVEN_RETURN_IF_ERROR(FromRocksDb(it->status(), "count records"));
      key->record_count = count;
    }
    if (static_cast<size_t>(key->record_count) >= kMaxRecordsPerSubject) {
      return absl::InvalidArgumentError(
          absl::StrCat("subject ", subject_id, " already has ",
                       kMaxRecordsPerSubject, " records (the limit)"));
    }
    // 128 random bits: a collision within one subject's at most 1000
    // records is not a practical event, so no read-before-write here.
    result.record_id = crypto::RandomHexId(kIdBytes);
    result.version = 1;
  } else {
    std::string existing;
    rocksdb::Status s =
        db->Get({}, vault, RecordKey(subject_id, record_id), &existing);
    if (s.IsNotFound()) {
      return absl::NotFoundError(
          absl::StrCat("no record ", record_id, " for subject ", subject_id));
    }
    HAVEN_RETURN_IF_ERROR(FromRocksDb(s, "read record"));
    std::optional<RecordEnvelope> old = DecodeRecordEnvelope(existing);
    if (!old.has_value()) return RecordAuthFailure(subject_id, record_id);
    result.record_id = std::string(record_id);
    result.version = old->version + 1;
  }

  RecordEnvelope envelope;
  envelope.version = result.version;
  envelope.updated_unix = NowUnix();
  const auto count = static_cast<uint32_t>(fields.size());
  std::vector<std::string> sealed_fields;
  sealed_fields.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const haven::v1::Field& f = fields[static_cast<int>(i)];
    std::string plain = EncodeFieldPlaintext(f.name(), f.category(), f.value());
    absl::StatusOr<std::string> sealed =
        crypto::AeadSeal(key->data_key, plain,
                         FieldAd(subject_id, result.record_id, envelope.version,
                                 envelope.updated_unix, i, count));
    crypto::WipeString(plain);
    HAVEN_RETURN_IF_ERROR(sealed.status());
    sealed_fields.push_back(std::move(sealed).value());
  }
  envelope.sealed_fields.assign(sealed_fields.begin(), sealed_fields.end());
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  HAVEN_RETURN_IF_ERROR(
      FromRocksDb(db->Put(wo, vault, RecordKey(subject_id, result.record_id),
                          EncodeRecordEnvelope(envelope)),
                  "write record"));
  if (is_new) ++key->record_count;
  return result;
}

absl::StatusOr<haven::v1::Record> RecordVault::DecryptRecord(
    const crypto::SecretBytes& data_key, absl::string_view subject_id,
    absl::string_view record_id, absl::string_view stored) const {
  std::optional<RecordEnvelope> envelope = DecodeRecordEnvelope(stored);
  if (!envelope.has_value() || envelope->sealed_fields.empty()) {
    return RecordAuthFailure(subject_id, record_id);
  }
  haven::v1::Record record;
  record.set_subject_id(std::string(subject_id));
  record.set_record_id(std::string(record_id));
  record.set_version(envelope->version);
  record.set_updated_unix(envelope->updated_unix);
  const auto count = static_cast<uint32_t>(envelope->sealed_fields.size());
  for (uint32_t i = 0; i < count; ++i) {
    absl::StatusOr<std::string> plain =
        crypto::AeadOpen(data_key, envelope->sealed_fields[i],
                         FieldAd(subject_id, record_id, envelope->version,
                                 envelope->updated_unix, i, count));
    std::optional<FieldHeader> header;
    if (plain.ok()) header = DecodeFieldHeader(*plain);
    if (!header.has_value() || !haven::v1::Category_IsValid(header->category)) {
      // Drop what was decrypted so far: never partial content.
      for (auto& f : *record.mutable_fields()) {
        crypto::WipeString(*f.mutable_value());
      }
      if (plain.ok()) crypto::WipeString(*plain);
      return RecordAuthFailure(subject_id, record_id);
    }
    haven::v1::Field* out = record.add_fields();
    out->set_name(std::string(header->name));
    out->set_category(static_cast<haven::v1::Category>(header->category));
    // The value is the tail of the plaintext: shift it down in place rather
    // than copy it, so no second plaintext copy is left behind.
    plain->erase(0, header->value_offset);
    out->set_value(std::move(plain).value());
  }
  return record;
}

absl::StatusOr<haven::v1::Record> RecordVault::Get(
    absl::string_view subject_id, absl::string_view record_id) const {
  HAVEN_RETURN_IF_ERROR(CheckSubjectId(subject_id));
  HAVEN_RETURN_IF_ERROR(CheckRecordId(record_id));
  absl::ReaderMutexLock subject_lock(&StripeFor(subject_id));
  HAVEN_ASSIGN_OR_RETURN(std::shared_ptr<SubjectKey> key,
                         LoadSubjectKey(subject_id));
  rocksdb::PinnableSlice stored;
  rocksdb::Status s = db_->db()->Get({}, db_->family(Family::kVault),
                                     RecordKey(subject_id, record_id), &stored);
  if (s.IsNotFound()) {
    return absl::NotFoundError(
        absl::StrCat("no record ", record_id, " for subject ", subject_id));
  }
  HAVEN_RETURN_IF_ERROR(FromRocksDb(s, "read record"));
  return DecryptRecord(key->data_key, subject_id, record_id,
                       absl::string_view(stored.data(), stored.size()));
}

absl::StatusOr<std::vector<haven::v1::Record>> RecordVault::List(
    absl::string_view subject_id) const {
  HAVEN_RETURN_IF_ERROR(CheckSubjectId(subject_id));
  absl::ReaderMutexLock subject_lock(&StripeFor(subject_id));
  HAVEN_ASSIGN_OR_RETURN(std::shared_ptr<SubjectKey> key,
                         LoadSubjectKey(subject_id));
  std::string prefix = RecordPrefix(subject_id);
  std::string end = RecordRangeEnd(subject_id);
  rocksdb::Slice upper = ToSlice(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db()->NewIterator(ro, db_->family(Family::kVault)));
  std::vector<haven::v1::Record> records;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    absl::string_view k(it->key().data(), it->key().size());
    absl::string_view record_id = k.substr(prefix.size());
    absl::string_view value(it->value().data(), it->value().size());
    HAVEN_ASSIGN_OR_RETURN(
        haven::v1::Record record,
        DecryptRecord(key->data_key, subject_id, record_id, value));
    records.push_back(std::move(record));
  }
  HAVEN_RETURN_IF_ERROR(FromRocksDb(it->status(), "list records"));
  return records;
}

absl::StatusOr<uint64_t> RecordVault::Erase(absl::string_view subject_id) {
  HAVEN_RETURN_IF_ERROR(CheckSubjectId(subject_id));
  rocksdb::DB* db = db_->db();
  auto* vault = db_->family(Family::kVault);
  const std::string id(subject_id);
  const std::string key_key = DataKeyKey(subject_id);
  const std::string prefix = RecordPrefix(subject_id);
  const std::string end = RecordRangeEnd(subject_id);
  uint64_t erased = 0;
  {
    absl::WriterMutexLock subject_lock(&StripeFor(subject_id));
    std::string stored;
    rocksdb::Status s = db->Get({}, vault, key_key, &stored);
    if (s.IsNotFound()) return UnknownSubject(subject_id);
    HAVEN_RETURN_IF_ERROR(FromRocksDb(s, "read data key"));
    CacheErase(id);
    // The data key goes first, synced: from here on the records are
    // unreadable whatever happens next.
    HAVEN_RETURN_IF_ERROR(FromRocksDb(
        db->Delete(storage::SyncedWrite(), vault, key_key), "delete data key"));

    rocksdb::Slice upper = ToSlice(end);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, vault));
    rocksdb::WriteBatch batch;
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      batch.Delete(vault, it->key());
      ++erased;
    }
    HAVEN_RETURN_IF_ERROR(FromRocksDb(it->status(), "list records to erase"));
    it.reset();
    HAVEN_RETURN_IF_ERROR(FromRocksDb(db->Write(storage::SyncedWrite(), &batch),
                                      "delete records"));
  }
  // Flush every family so the write-ahead log holding the old values becomes
  // obsolete and is deleted, then rewrite the files holding the subject's
  // ranges without them.
  auto compact_failed = [&](const absl::Status& s) {
    return absl::Status(
        s.code(), absl::StrCat("subject ", subject_id,
                               " is erased and unreadable, but removing its "
                               "bytes from the data files failed: ",
                               s.message()));
  };
  if (absl::Status s = db_->Flush(); !s.ok()) return compact_failed(s);
  if (absl::Status s = db_->CompactRange(Family::kVault, key_key,
                                         absl::StrCat(key_key, "0"));
      !s.ok()) {
    return compact_failed(s);
  }
  if (absl::Status s = db_->CompactRange(Family::kVault, prefix, end);
      !s.ok()) {
    return compact_failed(s);
  }
  return erased;
}

absl::StatusOr<uint64_t> RecordVault::RotateKek() {
  absl::MutexLock admin_lock(&admin_mu_);
  uint32_t new_version = 0;
  {
    // Waits for subjects being created under the old version to be written.
    absl::WriterMutexLock kek_lock(&kek_mu_);
    HAVEN_ASSIGN_OR_RETURN(new_version, registry_->AddVersion());
  }
  rocksdb::DB* db = db_->db();
  auto* vault = db_->family(Family::kVault);

  std::vector<std::string> subjects;
  {
    std::string end(kDataKeyRangeEnd);
    rocksdb::Slice upper = ToSlice(end);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, vault));
    for (it->Seek(ToSlice(kDataKeyPrefix)); it->Valid(); it->Next()) {
      subjects.emplace_back(it->key().data() + kDataKeyPrefix.size(),
                            it->key().size() - kDataKeyPrefix.size());
    }
    HAVEN_RETURN_IF_ERROR(FromRocksDb(it->status(), "list data keys"));
  }

  uint64_t rewrapped = 0;
  // Re-wraps are not synced one by one: until the final sync, a crash leaves
  // a data key wrapped under the old version, which stays live (RetireKek
  // checks what is stored).
  rocksdb::WriteOptions wo;
  wo.sync = false;
  for (const std::string& subject : subjects) {
    absl::WriterMutexLock subject_lock(&StripeFor(subject));
    std::string stored;
    rocksdb::Status s = db->Get({}, vault, DataKeyKey(subject), &stored);
    if (s.IsNotFound()) continue;  // erased meanwhile
    HAVEN_RETURN_IF_ERROR(FromRocksDb(s, "read data key"));
    std::optional<WrappedKey> wrapped = DecodeWrappedKey(stored);
    if (wrapped.has_value() && wrapped->kek_version == new_version) continue;
    HAVEN_ASSIGN_OR_RETURN(std::shared_ptr<SubjectKey> key,
                           LoadSubjectKey(subject));
    HAVEN_ASSIGN_OR_RETURN(std::string rewrap,
                           WrapDataKey(subject, key->data_key, new_version));
    HAVEN_RETURN_IF_ERROR(FromRocksDb(
        db->Put(wo, vault, DataKeyKey(subject), rewrap), "re-wrap data key"));
    ++rewrapped;
  }
  HAVEN_RETURN_IF_ERROR(FromRocksDb(db->SyncWAL(), "sync re-wrapped keys"));
  return rewrapped;
}

absl::Status RecordVault::RetireKek(uint32_t version) {
  absl::MutexLock admin_lock(&admin_mu_);
  KekStatus status = kek_status();
  bool known = false;
  for (uint32_t v : status.live_versions) known |= v == version;
  for (uint32_t v : status.retired_versions) known |= v == version;
  if (!known) {
    return absl::NotFoundError(
        absl::StrCat("no key-encryption key version ", version));
  }
  if (version == status.active_version) {
    return absl::FailedPreconditionError(
        absl::StrCat("key-encryption key version ", version,
                     " is the active version; rotate to a new version first"));
  }
  // No new key is wrapped under a non-active version, and rotations are
  // excluded by admin_mu_, so this count can only go down while we look.
  rocksdb::DB* db = db_->db();
  std::string end(kDataKeyRangeEnd);
  rocksdb::Slice upper = ToSlice(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(ro, db_->family(Family::kVault)));
  uint64_t in_use = 0;
  for (it->Seek(ToSlice(kDataKeyPrefix)); it->Valid(); it->Next()) {
    std::optional<WrappedKey> wrapped = DecodeWrappedKey(
        absl::string_view(it->value().data(), it->value().size()));
    if (!wrapped.has_value()) {
      return absl::DataLossError(
          "a stored data key is malformed; refusing to retire any key "
          "version until the database is repaired");
    }
    if (wrapped->kek_version == version) ++in_use;
  }
  HAVEN_RETURN_IF_ERROR(FromRocksDb(it->status(), "list data keys"));
  if (in_use > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(in_use,
                     " data key(s) are still wrapped under key-encryption key "
                     "version ",
                     version, "; run a key rotation first"));
  }
  return registry_->Retire(version);
}

RecordVault::KekStatus RecordVault::kek_status() const {
  KekStatus status;
  status.active_version = registry_->active_version();
  status.live_versions = registry_->live_versions();
  status.retired_versions = registry_->retired_versions();
  return status;
}

}  // namespace haven::server::vault
