#include "server/vault/record_vault.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "haven/v1/common.pb.h"
#include "server/crypto/aead.h"
#include "server/crypto/key_derivation.h"
#include "server/vault/envelope.h"

namespace haven::server::vault {
namespace {

using storage::Family;

constexpr size_t kIdBytes = 16;
// Ids are checked by form with IsNodeId.
static_assert(2 * kIdBytes == limits::kNodeIdChars);
constexpr int kMaxIdAttempts = 8;

absl::Status CheckSubjectId(absl::string_view id) {
  if (IsNodeId(id)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "subject id must be ", 2 * kIdBytes, " lower-case hex characters"));
}

absl::Status CheckRecordId(absl::string_view id) {
  if (IsNodeId(id)) return absl::OkStatus();
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

// Messages name neither the subject nor the record: they may travel
// further than the caller who knows both.
absl::Status RecordAuthFailure(absl::string_view, absl::string_view) {
  return absl::DataLossError(
      "a stored record failed authentication (stored data altered or "
      "corrupt)");
}

absl::Status UnknownSubject(absl::string_view) {
  return absl::NotFoundError("no such subject");
}

absl::Status UnknownRecord() {
  return absl::NotFoundError("no such record for this subject");
}

}  // namespace

RecordVault::RecordVault(Options options, std::unique_ptr<KekRegistry> registry)
    : storage_(options.storage),
      registry_(std::move(registry)),
      cache_capacity_(options.data_key_cache_size),
      clock_(options.clock != nullptr ? options.clock : SystemClock::Get()) {}

absl::StatusOr<std::unique_ptr<RecordVault>> RecordVault::Create(
    Options options) {
  if (options.storage == nullptr) {
    return absl::InvalidArgumentError("RecordVault needs a storage");
  }
  KekRegistry::Options registry_options;
  registry_options.storage = options.storage;
  registry_options.master_key = std::move(options.master_key);
  HAVEN_ASSIGN_OR_RETURN(auto registry,
                         KekRegistry::Open(std::move(registry_options)));
  return std::unique_ptr<RecordVault>(
      new RecordVault(std::move(options), std::move(registry)));
}

absl::Mutex& RecordVault::StripeFor(absl::string_view subject_id) const {
  return stripes_[absl::Hash<absl::string_view>{}(subject_id) % kStripes];
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
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         storage_->Get(Family::kVault, DataKeyKey(subject_id)));
  if (!stored.has_value()) return UnknownSubject(subject_id);
  auto damaged = [] {
    return absl::DataLossError(
        "a stored data key failed authentication (stored data altered or "
        "corrupt)");
  };
  std::optional<WrappedKey> wrapped = DecodeWrappedKey(*stored);
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

absl::StatusOr<std::string> RecordVault::CreateSubject(
    absl::FunctionRef<absl::Status(storage::WriteBatch, const std::string&)>
        commit) {
  crypto::SecretBytes data_key =
      crypto::SecretBytes::Random(crypto::kAeadKeySize);
  for (int attempt = 0; attempt < kMaxIdAttempts; ++attempt) {
    std::string id = crypto::RandomHexId(kIdBytes);
    absl::WriterMutexLock subject_lock(&StripeFor(id));
    HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> existing,
                           storage_->Get(Family::kVault, DataKeyKey(id)));
    if (existing.has_value()) continue;  // 2^-128 odds; pick another id
    // Held across reading the active version and writing, so a rotation
    // that has bumped the version sees every key wrapped under the old one.
    absl::ReaderMutexLock kek_lock(&kek_mu_);
    HAVEN_ASSIGN_OR_RETURN(
        std::string wrapped,
        WrapDataKey(id, data_key, registry_->active_version()));
    storage::WriteBatch batch;
    batch.Put(Family::kVault, DataKeyKey(id), std::move(wrapped));
    HAVEN_RETURN_IF_ERROR(commit(std::move(batch), id));
    auto key = std::make_shared<SubjectKey>(std::move(data_key));
    key->record_count = 0;
    CacheInsert(id, std::move(key));
    return id;
  }
  return absl::InternalError("could not pick an unused subject id");
}

absl::Status RecordVault::CheckSubject(absl::string_view subject_id) const {
  HAVEN_RETURN_IF_ERROR(CheckSubjectId(subject_id));
  absl::ReaderMutexLock subject_lock(&StripeFor(subject_id));
  return LoadSubjectKey(subject_id).status();
}

absl::StatusOr<RecordVault::PutResult> RecordVault::Put(
    absl::string_view subject_id, absl::string_view record_id,
    const google::protobuf::RepeatedPtrField<haven::v1::Field>& fields,
    absl::FunctionRef<absl::Status(storage::WriteBatch, const PutResult&)>
        commit) {
  HAVEN_RETURN_IF_ERROR(CheckSubjectId(subject_id));
  if (!record_id.empty()) HAVEN_RETURN_IF_ERROR(CheckRecordId(record_id));
  HAVEN_RETURN_IF_ERROR(ValidateFields(fields));

  absl::WriterMutexLock subject_lock(&StripeFor(subject_id));
  HAVEN_ASSIGN_OR_RETURN(std::shared_ptr<SubjectKey> key,
                         LoadSubjectKey(subject_id));

  PutResult result;
  const bool is_new = record_id.empty();
  if (is_new) {
    if (key->record_count < 0) {
      int64_t count = 0;
      HAVEN_RETURN_IF_ERROR(
          storage_->Scan(Family::kVault, RecordPrefix(subject_id),
                         [&](absl::string_view, absl::string_view) {
                           ++count;
                           return true;
                         }));
      key->record_count = count;
    }
    if (static_cast<size_t>(key->record_count) >= kMaxRecordsPerSubject) {
      return absl::InvalidArgumentError(absl::StrCat("the subject already has ",
                                                     kMaxRecordsPerSubject,
                                                     " records (the limit)"));
    }
    // 128 random bits: a collision within one subject's at most 1000
    // records is not a practical event, so no read-before-write here.
    result.record_id = crypto::RandomHexId(kIdBytes);
    result.version = 1;
  } else {
    HAVEN_ASSIGN_OR_RETURN(
        std::optional<std::string> existing,
        storage_->Get(Family::kVault, RecordKey(subject_id, record_id)));
    if (!existing.has_value()) return UnknownRecord();
    std::optional<RecordEnvelope> old = DecodeRecordEnvelope(*existing);
    if (!old.has_value()) return RecordAuthFailure(subject_id, record_id);
    result.record_id = std::string(record_id);
    result.version = old->version + 1;
  }

  RecordEnvelope envelope;
  envelope.version = result.version;
  envelope.updated_unix = clock_->NowUnix();
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
  storage::WriteBatch batch;
  batch.Put(Family::kVault, RecordKey(subject_id, result.record_id),
            EncodeRecordEnvelope(envelope));
  HAVEN_RETURN_IF_ERROR(commit(std::move(batch), result));
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
  HAVEN_ASSIGN_OR_RETURN(
      std::optional<std::string> stored,
      storage_->Get(Family::kVault, RecordKey(subject_id, record_id)));
  if (!stored.has_value()) return UnknownRecord();
  return DecryptRecord(key->data_key, subject_id, record_id, *stored);
}

absl::StatusOr<std::vector<haven::v1::Record>> RecordVault::List(
    absl::string_view subject_id) const {
  HAVEN_RETURN_IF_ERROR(CheckSubjectId(subject_id));
  absl::ReaderMutexLock subject_lock(&StripeFor(subject_id));
  HAVEN_ASSIGN_OR_RETURN(std::shared_ptr<SubjectKey> key,
                         LoadSubjectKey(subject_id));
  const std::string prefix = RecordPrefix(subject_id);
  std::vector<haven::v1::Record> records;
  absl::Status failed;
  HAVEN_RETURN_IF_ERROR(storage_->Scan(
      Family::kVault, prefix,
      [&](absl::string_view k, absl::string_view value) {
        absl::string_view record_id = k.substr(prefix.size());
        absl::StatusOr<haven::v1::Record> record =
            DecryptRecord(key->data_key, subject_id, record_id, value);
        if (!record.ok()) {
          failed = record.status();
          return false;
        }
        records.push_back(*std::move(record));
        return true;
      }));
  if (!failed.ok()) {
    // Never partial content: what was decrypted so far is wiped.
    for (auto& record : records) {
      for (auto& f : *record.mutable_fields()) {
        crypto::WipeString(*f.mutable_value());
      }
    }
    return failed;
  }
  return records;
}

absl::StatusOr<uint64_t> RecordVault::Erase(
    absl::string_view subject_id,
    absl::FunctionRef<absl::Status(storage::WriteBatch, uint64_t)> commit) {
  HAVEN_RETURN_IF_ERROR(CheckSubjectId(subject_id));
  const std::string id(subject_id);
  const std::string key_key = DataKeyKey(subject_id);
  const std::string prefix = RecordPrefix(subject_id);
  uint64_t erased = 0;
  {
    absl::WriterMutexLock subject_lock(&StripeFor(subject_id));
    HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                           storage_->Get(Family::kVault, key_key));
    if (!stored.has_value()) return UnknownSubject(subject_id);
    // The data key and every record go in one commit: from then on the
    // records are unreadable whatever happens next.
    storage::WriteBatch batch;
    batch.Delete(Family::kVault, key_key);
    HAVEN_RETURN_IF_ERROR(storage_->Scan(
        Family::kVault, prefix, [&](absl::string_view k, absl::string_view) {
          batch.Delete(Family::kVault, std::string(k));
          ++erased;
          return true;
        }));
    HAVEN_RETURN_IF_ERROR(commit(std::move(batch), erased));
    CacheErase(id);
  }
  // Rewrite the files holding the subject's ranges without them (the
  // storage flushes first, so the write-ahead log holding the old values is
  // dropped too).
  auto compact_failed = [&](const absl::Status& s) {
    return absl::Status(
        s.code(), absl::StrCat("the subject is erased and unreadable, but "
                               "removing its bytes from the data files "
                               "failed: ",
                               s.message()));
  };
  if (absl::Status s = storage_->Compact(Family::kVault, key_key,
                                         absl::StrCat(key_key, "0"));
      !s.ok()) {
    return compact_failed(s);
  }
  if (absl::Status s =
          storage_->Compact(Family::kVault, prefix, RecordRangeEnd(subject_id));
      !s.ok()) {
    return compact_failed(s);
  }
  return erased;
}

absl::StatusOr<uint64_t> RecordVault::RotateKek(
    absl::FunctionRef<absl::Status(storage::WriteBatch, uint32_t)> commit) {
  absl::MutexLock admin_lock(&admin_mu_);
  uint32_t new_version = 0;
  {
    // Waits for subjects being created under the old version to be written.
    absl::WriterMutexLock kek_lock(&kek_mu_);
    const uint32_t next = registry_->NextVersion();
    HAVEN_ASSIGN_OR_RETURN(new_version,
                           registry_->AddVersion([&](storage::WriteBatch b) {
                             return commit(std::move(b), next);
                           }));
  }

  std::vector<std::string> subjects;
  HAVEN_RETURN_IF_ERROR(
      storage_->Scan(Family::kVault, kDataKeyPrefix,
                     [&](absl::string_view k, absl::string_view) {
                       subjects.emplace_back(k.substr(kDataKeyPrefix.size()));
                       return true;
                     }));

  uint64_t rewrapped = 0;
  // Re-wraps change no meaning (the data key stays), so they need no entry
  // of their own; they are written unsynced and made durable by one synced
  // write at the end. Until then a crash leaves keys wrapped under the old
  // version, which stays live (RetireKek checks what is stored).
  for (const std::string& subject : subjects) {
    absl::WriterMutexLock subject_lock(&StripeFor(subject));
    HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                           storage_->Get(Family::kVault, DataKeyKey(subject)));
    if (!stored.has_value()) continue;  // erased meanwhile
    std::optional<WrappedKey> wrapped = DecodeWrappedKey(*stored);
    if (wrapped.has_value() && wrapped->kek_version == new_version) continue;
    HAVEN_ASSIGN_OR_RETURN(std::shared_ptr<SubjectKey> key,
                           LoadSubjectKey(subject));
    HAVEN_ASSIGN_OR_RETURN(std::string rewrap,
                           WrapDataKey(subject, key->data_key, new_version));
    // Written at once under the subject's lock, so that an erase that
    // follows cannot be undone by a re-wrap written after it.
    storage::WriteBatch one;
    one.Put(Family::kVault, DataKeyKey(subject), std::move(rewrap));
    HAVEN_RETURN_IF_ERROR(storage_->Write(one, /*sync=*/false));
    ++rewrapped;
  }
  // A synced write makes every re-wrap before it durable.
  storage::WriteBatch sync_marker;
  sync_marker.Put(Family::kMeta, "vault/last-rewrap",
                  absl::StrCat(new_version, " ", rewrapped));
  HAVEN_RETURN_IF_ERROR(storage_->Write(sync_marker, /*sync=*/true));
  return rewrapped;
}

absl::Status RecordVault::RetireKek(uint32_t version, CommitFn commit) {
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
  uint64_t in_use = 0;
  bool malformed = false;
  HAVEN_RETURN_IF_ERROR(storage_->Scan(
      Family::kVault, kDataKeyPrefix,
      [&](absl::string_view, absl::string_view value) {
        std::optional<WrappedKey> wrapped = DecodeWrappedKey(value);
        if (!wrapped.has_value()) {
          malformed = true;
          return false;
        }
        if (wrapped->kek_version == version) ++in_use;
        return true;
      }));
  if (malformed) {
    return absl::DataLossError(
        "a stored data key is malformed; refusing to retire any key "
        "version until the database is repaired");
  }
  if (in_use > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(in_use,
                     " data key(s) are still wrapped under key-encryption key "
                     "version ",
                     version, "; run a key rotation first"));
  }
  return registry_->Retire(version, commit);
}

RecordVault::KekStatus RecordVault::kek_status() const {
  KekStatus status;
  status.active_version = registry_->active_version();
  status.live_versions = registry_->live_versions();
  status.retired_versions = registry_->retired_versions();
  return status;
}

}  // namespace haven::server::vault
