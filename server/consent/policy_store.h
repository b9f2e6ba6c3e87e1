// PolicyStore: the sharing policy an admin loaded at run time, kept across
// restarts. Without it a node restarted after `havenctl policy load` would
// silently go back to its config's policy_file.
//
// The policy is staged into the same commit as its POLICY_LOADED entry, so
// the two are on disk together or not at all. It lives sealed in the
// guarded kConsent family (key "p/in-force"): an edited value fails to
// open, and a deleted or older value is caught by the state digest at start
// (audit::StateGuard), like a consent. Immutable after construction;
// thread-safe.
#ifndef HAVEN_SERVER_CONSENT_POLICY_STORE_H_
#define HAVEN_SERVER_CONSENT_POLICY_STORE_H_

#include <optional>

#include "absl/status/statusor.h"
#include "haven/v1/state.pb.h"
#include "server/crypto/state_sealer.h"
#include "server/storage/storage.h"

namespace haven::server::consent {

class PolicyStore {
 public:
  // Both borrowed; must outlive the store.
  PolicyStore(storage::Storage* storage, const crypto::StateSealer* sealer)
      : storage_(storage), sealer_(sealer) {}

  // Adds the write of `stored` to `batch`, to be committed with the
  // policy's POLICY_LOADED entry.
  void Stage(const haven::v1::StoredPolicy& stored,
             storage::WriteBatch* batch) const;

  // The policy loaded at run time, or nullopt if none ever was. DATA_LOSS
  // if the stored value was altered or is malformed.
  absl::StatusOr<std::optional<haven::v1::StoredPolicy>> Load() const;

 private:
  storage::Storage* const storage_;
  const crypto::StateSealer* const sealer_;
};

}  // namespace haven::server::consent

#endif  // HAVEN_SERVER_CONSENT_POLICY_STORE_H_
