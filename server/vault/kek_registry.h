// KekRegistry: the node's versioned key-encryption keys (KEKs) and the key
// check value, both kept in the meta column family.
//
// KEK version v is derived from the master key (crypto::DeriveKek); only the
// version numbers and their state are stored:
//   "vault/kcv"   key check value of the master key, with a checksum
//   "vault/keks"  active version and the state (live or retired) of each
// A retired version is never derived again: once no data key is wrapped
// under it, retiring it means that old copies of wrapped keys (in backups,
// in files written before a compaction) can no longer be unwrapped, even
// with the master key, by this code.
//
// Opening checks the master key against the key check value: a wrong master
// key gives FAILED_PRECONDITION ("master key does not match this data dir"),
// a damaged or half-present registry gives DATA_LOSS. A change (a new
// version, a retirement) is handed to the caller's commit function, which
// writes it with its audit entry; the registry changes once that returns OK.
// Thread-safe.
#ifndef HAVEN_SERVER_VAULT_KEK_REGISTRY_H_
#define HAVEN_SERVER_VAULT_KEK_REGISTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/crypto/secret_bytes.h"
#include "server/storage/storage.h"

namespace haven::server::vault {

// Commits a state change with the audit entries that record it; OK once it
// is durable.
using CommitFn = absl::FunctionRef<absl::Status(storage::WriteBatch)>;

class KekRegistry {
 public:
  struct Options {
    // Borrowed; must outlive the registry.
    storage::Storage* storage = nullptr;
    // The node's master key (crypto::kMasterKeySize bytes).
    crypto::SecretBytes master_key;
  };

  // Opens the registry, or creates it (KEK version 1 active) in a data dir
  // whose vault is empty. See the class comment for the errors.
  static absl::StatusOr<std::unique_ptr<KekRegistry>> Open(Options options);

  KekRegistry(const KekRegistry&) = delete;
  KekRegistry& operator=(const KekRegistry&) = delete;

  // The version new data keys are wrapped under.
  uint32_t active_version() const;
  // Versions that can still unwrap, ascending (includes the active one).
  std::vector<uint32_t> live_versions() const;
  std::vector<uint32_t> retired_versions() const;

  // The KEK of `version`. FAILED_PRECONDITION if that version was retired;
  // DATA_LOSS if the registry never had it (stored data refers to a version
  // this node did not make).
  absl::StatusOr<std::shared_ptr<const crypto::SecretBytes>> Kek(
      uint32_t version) const;

  // The version AddVersion would make.
  uint32_t NextVersion() const;
  // Makes a new version and makes it active, once `commit` made it durable.
  absl::StatusOr<uint32_t> AddVersion(CommitFn commit);

  // Marks `version` retired, once `commit` made it durable. The caller
  // checks that no data key uses it. NOT_FOUND for a version never made;
  // FAILED_PRECONDITION for the active version. Retiring a retired version
  // commits nothing.
  absl::Status Retire(uint32_t version, CommitFn commit);

 private:
  enum class State : uint8_t { kLive = 1, kRetired = 2 };

  explicit KekRegistry(Options options);
  absl::Status Load();
  // Versions in `wanted` state, ascending.
  std::vector<uint32_t> VersionsIn(State wanted) const;
  static storage::WriteBatch Persist(uint32_t active,
                                     const std::map<uint32_t, State>& states);

  // Constant after construction.
  storage::Storage* const storage_;
  const crypto::SecretBytes master_key_;

  mutable absl::Mutex mu_;
  // Protected by mu_.
  uint32_t active_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint32_t, State> states_ ABSL_GUARDED_BY(mu_);
  // Derived keys of live versions, filled on first use.
  mutable std::map<uint32_t, std::shared_ptr<const crypto::SecretBytes>> keks_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace haven::server::vault

#endif  // HAVEN_SERVER_VAULT_KEK_REGISTRY_H_
