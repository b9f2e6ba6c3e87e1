// StateGuard: ties the node's guarded state to its audit log, so that a
// guarded value deleted, added or rolled back behind the node's back is
// detected, and so that a commit whose sync failed can be undone.
//
// Guarded state is the kConsent and kExchange families (consents,
// refusals, use counts, the policy loaded at run time, handles, peer
// outbox): small, and what a survivor's safety turns on. Their values are sealed by their owners (StateSealer);
// sealing catches an edited or moved value but not a deleted one or an
// older copy put back. For that, every commit also stores a summary: the
// log size it goes with and the XOR of a keyed MAC of every guarded key and
// value. At start the node recomputes the digest from what is stored and
// compares (AuditLog::Open).
//
// Every commit also stores what undoes it: for each of its actions, each
// key's value before the action (or that there was none). An erasure's
// deletions are marked irreversible instead: keeping the erased bytes
// would defeat crypto-shredding, and an erasure that took effect although
// it was reported failed leaves nothing usable. Only the last commit's
// record is kept.
//
// Used by the audit log's commit thread only; not thread-safe.
#ifndef HAVEN_SERVER_AUDIT_STATE_GUARD_H_
#define HAVEN_SERVER_AUDIT_STATE_GUARD_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "haven/v1/state.pb.h"
#include "server/crypto/state_sealer.h"
#include "server/storage/storage.h"

namespace haven::server::audit {

class StateGuard {
 public:
  // One action of a commit, as the guard sees it.
  struct ActionState {
    const storage::WriteBatch* state;
    uint64_t first_index;
    uint32_t entry_count;
    // Kept like an erasure if its commit fails (a signing-key switch: the
    // node loads its key before the log undoes anything, so the new key
    // stays in force and the switch stays true).
    bool irreversible = false;
  };
  // The restore operations of a commit's undo record, and the entries whose
  // actions are kept (their undo is irreversible).
  struct Undo {
    storage::WriteBatch restore;
    std::vector<uint64_t> kept;
  };

  // Reads the stored summary and recomputes the digest of the guarded
  // values. Both borrowed; must outlive the guard. DATA_LOSS if a stored
  // summary does not open.
  static absl::StatusOr<std::unique_ptr<StateGuard>> Open(
      storage::Storage* storage, const crypto::StateSealer* sealer);

  // What the last commit stored, if any commit did.
  const std::optional<haven::v1::StateSummary>& stored_summary() const {
    return stored_;
  }
  // The digest of what is stored now.
  const std::string& digest() const { return digest_; }

  // Appends to `out` every action's state, then the commit's undo record
  // and the summary for a log of `end_index` entries. Returns the digest
  // the guarded state will have once `out` is written; Adopt it then.
  absl::StatusOr<std::string> Prepare(const std::vector<ActionState>& actions,
                                      uint64_t first_index, uint64_t end_index,
                                      storage::WriteBatch* out) const;
  void Adopt(std::string digest, uint64_t log_size);

  // The stored undo record, which must be of the commit [first, end).
  // DATA_LOSS if it is missing, does not open or is of another commit.
  absl::StatusOr<Undo> LoadUndo(uint64_t first_index, uint64_t end_index) const;

  static bool IsGuarded(storage::Family family) {
    return family == storage::Family::kConsent ||
           family == storage::Family::kExchange;
  }

 private:
  StateGuard(storage::Storage* storage, const crypto::StateSealer* sealer)
      : storage_(storage), sealer_(sealer) {}

  // The MAC one guarded value adds to the digest.
  std::string ValueMac(storage::Family family, absl::string_view key,
                       absl::string_view value) const;

  storage::Storage* const storage_;
  const crypto::StateSealer* const sealer_;
  std::optional<haven::v1::StateSummary> stored_;
  std::string digest_;
};

}  // namespace haven::server::audit

#endif  // HAVEN_SERVER_AUDIT_STATE_GUARD_H_
