// RecordVault: the agency's records about its subjects, encrypted at rest.
//
// Each subject has its own random 256-bit data key, wrapped
// (XChaCha20-Poly1305) under the active key-encryption key (KEK) and stored
// beside its records. Each field of a record is sealed separately under the
// subject's data key with a fresh random nonce; the associated data binds it
// to its subject, record, version, write time, position and the record's
// field count, so stored blobs cannot be swapped, reordered, dropped or
// replayed from another version without failing authentication. Field names
// and categories are inside the ciphertext. RocksDB keys hold only random
// hex ids (see envelope.h for the layouts).
//
// Limits (INVALID_ARGUMENT before anything is written, so a refused write
// leaves no partial state):
//   field value        at most kMaxFieldValueBytes (64 KiB)
//   field name         1..kMaxFieldNameBytes (64) characters of [a-z0-9_],
//                      unique within the record
//   field category     a known haven.v1.Category other than UNSPECIFIED
//   fields per record  1..kMaxFieldsPerRecord (64)
//   records / subject  at most kMaxRecordsPerSubject (1000)
//   ids                subject and record ids are 32 lower-case hex chars
//
// Every change is handed to the caller's commit function as one
// WriteBatch, with what the change is (the new record's id and version, the
// records erased, ...), so the caller writes it together with the audit
// entries that record it; the vault's own state (caches, counts) follows
// only once the commit returned OK. The subject's lock is held meanwhile,
// so changes to one subject are committed one at a time.
//
// Erasure (crypto-shredding): Erase commits the deletion of the wrapped
// data key and of every record in one batch, then flushes and compacts the
// subject's key ranges so neither the wrapped key nor the records remain in
// any live file of the data dir. Reads give NOT_FOUND as soon as Erase has
// returned.
// Backups taken before the erase still hold the wrapped data key and the
// records; they stay readable with the master key for as long as the KEK
// version that wrapped that data key is live. Rotating the KEK (RotateKek)
// and then retiring the old version (RetireKek) makes every older copy of
// the wrapped key, in backups or anywhere else, impossible to unwrap through
// this code; destroying the master key itself shreds every backup.
//
// Key rotation is online: RotateKek makes a new active KEK version (new data
// keys are wrapped under it at once) and re-wraps every existing data key,
// each under its subject's lock, while reads and writes continue.
//
// Thread-safe. Operations on one subject are serialised by a striped
// reader/writer lock (reads share it); operations on different subjects run
// in parallel. RotateKek and RetireKek are serialised with each other.
// Unwrapped data keys are cached in guarded memory (bounded by
// Options::data_key_cache_size) and dropped on erase.
#ifndef HAVEN_SERVER_VAULT_RECORD_VAULT_H_
#define HAVEN_SERVER_VAULT_RECORD_VAULT_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "haven/base/clock.h"
#include "haven/base/limits.h"
#include "haven/v1/records.pb.h"
#include "server/crypto/secret_bytes.h"
#include "server/storage/storage.h"
#include "server/vault/kek_registry.h"

namespace haven::server::vault {

using limits::kMaxFieldNameBytes;
using limits::kMaxFieldValueBytes;
inline constexpr size_t kMaxFieldsPerRecord = 64;
inline constexpr size_t kMaxRecordsPerSubject = 1000;

class RecordVault {
 public:
  struct Options {
    // Borrowed; must outlive the vault. Uses families kVault and kMeta (keys
    // under "vault/").
    storage::Storage* storage = nullptr;
    // The node's master key (crypto::kMasterKeySize bytes).
    crypto::SecretBytes master_key;
    // How many unwrapped data keys to keep in memory.
    size_t data_key_cache_size = 4096;
    // Time for Record::updated_unix; the system clock when null. Borrowed:
    // must outlive the vault.
    const Clock* clock = nullptr;
  };

  struct PutResult {
    std::string record_id;
    uint64_t version = 0;
  };

  struct KekStatus {
    uint32_t active_version = 0;
    std::vector<uint32_t> live_versions;
    std::vector<uint32_t> retired_versions;
  };

  // Opens the vault in `options.db`, or initialises it in a new data dir.
  // FAILED_PRECONDITION "master key does not match this data dir (...)" if
  // the master key is not the one the data dir was created with; DATA_LOSS
  // if the key metadata is damaged.
  static absl::StatusOr<std::unique_ptr<RecordVault>> Create(Options options);

  RecordVault(const RecordVault&) = delete;
  RecordVault& operator=(const RecordVault&) = delete;

  // Makes a subject with a new random id and data key; returns the id once
  // `commit` made it durable.
  absl::StatusOr<std::string> CreateSubject(
      absl::FunctionRef<absl::Status(storage::WriteBatch,
                                     const std::string& subject_id)>
          commit);

  // Writes a record. Empty `record_id` makes a new record (version 1);
  // otherwise replaces that record's fields (version + 1). INVALID_ARGUMENT
  // on a limit (see the class comment) or a malformed id; NOT_FOUND for an
  // unknown subject or record; nothing is committed then.
  absl::StatusOr<PutResult> Put(
      absl::string_view subject_id, absl::string_view record_id,
      const google::protobuf::RepeatedPtrField<haven::v1::Field>& fields,
      absl::FunctionRef<absl::Status(storage::WriteBatch, const PutResult&)>
          commit);

  // Reads one record. NOT_FOUND for an unknown subject or record; DATA_LOSS
  // "a stored record failed authentication (stored data altered or
  // corrupt)" if the stored bytes do not authenticate (no content is
  // returned then). Messages never name the subject or the record.
  absl::StatusOr<haven::v1::Record> Get(absl::string_view subject_id,
                                        absl::string_view record_id) const;

  // Every record of a subject, ordered by record id. Errors as for Get; one
  // record failing authentication fails the whole call.
  absl::StatusOr<std::vector<haven::v1::Record>> List(
      absl::string_view subject_id) const;

  // Whether the subject exists (OK) or not (NOT_FOUND).
  absl::Status CheckSubject(absl::string_view subject_id) const;

  // Crypto-shreds a subject (see the class comment); returns how many
  // records became unreadable. NOT_FOUND for an unknown subject.
  absl::StatusOr<uint64_t> Erase(
      absl::string_view subject_id,
      absl::FunctionRef<absl::Status(storage::WriteBatch, uint64_t records)>
          commit);

  // Makes a new active KEK version (committed by `commit`, which is given
  // the new version) and re-wraps every data key under it; returns how many
  // data keys were re-wrapped. Safe while other calls run.
  absl::StatusOr<uint64_t> RotateKek(
      absl::FunctionRef<absl::Status(storage::WriteBatch, uint32_t version)>
          commit);

  // Retires KEK `version` so it is never derived again. FAILED_PRECONDITION
  // while it is the active version or any data key is still wrapped under
  // it (run RotateKek first); NOT_FOUND for a version never made.
  absl::Status RetireKek(uint32_t version, CommitFn commit);

  KekStatus kek_status() const;

 private:
  static constexpr size_t kStripes = 64;

  // A subject's unwrapped data key and, once counted, its record count
  // (changed only under the subject's writer lock).
  struct SubjectKey {
    explicit SubjectKey(crypto::SecretBytes key) : data_key(std::move(key)) {}
    const crypto::SecretBytes data_key;
    std::atomic<int64_t> record_count{-1};
  };

  RecordVault(Options options, std::unique_ptr<KekRegistry> registry);

  absl::Mutex& StripeFor(absl::string_view subject_id) const;
  // The subject's key, from the cache or unwrapped from storage. NOT_FOUND
  // if the subject does not exist. Caller holds the subject's stripe.
  absl::StatusOr<std::shared_ptr<SubjectKey>> LoadSubjectKey(
      absl::string_view subject_id) const;
  absl::StatusOr<std::string> WrapDataKey(absl::string_view subject_id,
                                          const crypto::SecretBytes& data_key,
                                          uint32_t kek_version) const;
  absl::StatusOr<haven::v1::Record> DecryptRecord(
      const crypto::SecretBytes& data_key, absl::string_view subject_id,
      absl::string_view record_id, absl::string_view stored) const;
  void CacheInsert(const std::string& subject_id,
                   std::shared_ptr<SubjectKey> key) const;
  void CacheErase(const std::string& subject_id) const;

  // Constant after construction.
  storage::Storage* const storage_;
  const std::unique_ptr<KekRegistry> registry_;
  const size_t cache_capacity_;
  const Clock* const clock_;

  // Per-subject reader/writer locks, by hash of the subject id.
  mutable std::array<absl::Mutex, kStripes> stripes_;
  // Serialises RotateKek and RetireKek.
  absl::Mutex admin_mu_;
  // Held shared while a new data key is wrapped under the active version,
  // exclusively while the active version changes.
  absl::Mutex kek_mu_;

  mutable absl::Mutex cache_mu_;
  // Protected by cache_mu_.
  mutable absl::flat_hash_map<std::string, std::shared_ptr<SubjectKey>> cache_
      ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace haven::server::vault

#endif  // HAVEN_SERVER_VAULT_RECORD_VAULT_H_
