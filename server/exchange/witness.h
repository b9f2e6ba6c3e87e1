// Witness: keeps, for every peer, the latest checkpoint of the peer's audit
// log that this node has verified — signed by the peer's manifest key and
// consistent with the one it saw before — and cosigns it. Auditors compare
// what two nodes witnessed of a third (havenctl audit witnessed), and check
// a node's checkpoint against its witnesses' cosignatures (havenctl audit
// verify --witness), so a node cannot show different histories to
// different members without being caught.
//
// One round with a peer is two ExchangeCheckpoint calls: the first fetches
// the peer's checkpoint with a consistency proof from the one witnessed
// before; once it verifies, this node cosigns it (C2SP tlog-cosignature,
// cosignature/v1, with its own log signing key under its log's name) and
// the second call hands the cosigned note back, so the peer can serve it
// (cosignature_store.h) in the same round. The second answer is checked
// too.
//
// An inconsistent or badly signed checkpoint is never stored nor cosigned:
// the earlier one stays as evidence. The failure is kept (the newest
// limits::kMaxWitnessFailuresPerPeer per peer) and written to the audit log
// as a WITNESS_FAILED entry in the same commit; the same failure seen
// again (same kind, against the same checkpoint witnessed before) only
// updates the kept one. A peer that
// cannot be reached is not a failure of its log and is not logged (see
// WitnessAll).
//
// Each round is counted in haven_witness_rounds_total{peer, result}:
// result "verified", "failed" (the peer's checkpoint failed its check),
// "unreachable" (UNAVAILABLE or DEADLINE_EXCEEDED) or "error" (anything
// else, e.g. the peer refused the cosignature).
//
// Stored in the meta family ("witness/<agency>", "witness-failed/<agency>"),
// through the Storage seam. Thread-safe.
#ifndef HAVEN_SERVER_EXCHANGE_WITNESS_H_
#define HAVEN_SERVER_EXCHANGE_WITNESS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/verify/signed_note.h"
#include "haven/base/clock.h"
#include "haven/v1/audit.pb.h"
#include "server/audit/audit_log.h"
#include "server/audit/audit_recorder.h"
#include "server/crypto/ed25519_signer.h"
#include "server/exchange/peer_client.h"
#include "server/federation/manifest.h"
#include "server/metrics/registry.h"
#include "server/storage/storage.h"

namespace haven::server::exchange {

class Witness {
 public:
  // Everything borrowed; must outlive the Witness.
  struct Deps {
    std::string agency_id;
    storage::Storage* storage = nullptr;
    const federation::FederationRegistry* federation = nullptr;
    PeerClient* peers = nullptr;
    const audit::AuditLog* own_log = nullptr;
    const Clock* clock = nullptr;
    // The node's log signing key: it cosigns with it, named as its log.
    const crypto::Ed25519Signer* signer = nullptr;
    // Where WITNESS_FAILED entries go.
    const audit::AuditRecorder* recorder = nullptr;
    // Told of every first answer, before it is checked: it carries this
    // node's own checkpoint as the peer last witnessed it (for the rollback
    // guard) and the peer's manifest serial (for gossip). May be empty.
    std::function<void(const haven::v1::Member& peer,
                       const haven::v1::ExchangeCheckpointResponse& answer)>
        on_answer;
    // Where rounds are counted; nullptr counts nothing.
    metrics::Registry* metrics = nullptr;
  };
  explicit Witness(Deps deps);

  // Fetches, checks and cosigns one peer's checkpoint, and hands the
  // cosignature back. DATA_LOSS if the peer's checkpoint is badly signed,
  // smaller than or inconsistent with what was seen before (kept and
  // logged as said above); UNAVAILABLE if the peer cannot be reached; the
  // peer's error if it refuses the cosignature.
  absl::Status WitnessPeer(const haven::v1::Member& peer);
  // Every active peer; returns how many were verified.
  int WitnessAll();

  absl::StatusOr<std::vector<haven::v1::WitnessedCheckpoint>> Witnessed(
      const std::string& agency_id) const;
  // The failures kept for `agency_id` (empty: every peer), oldest first per
  // peer.
  absl::StatusOr<std::vector<haven::v1::WitnessFailure>> Failures(
      const std::string& agency_id) const;

 private:
  // A peer checkpoint that failed its check.
  struct Failure {
    haven::v1::WitnessFailure::Kind kind;
    std::string detail;
  };
  // Checks `answer` against the manifest key and, if `previous` is set,
  // against the checkpoint witnessed before. Returns the verified body or
  // the failure.
  absl::StatusOr<client::CheckpointBody> Check(
      const haven::v1::Member& peer, const haven::v1::Checkpoint* previous,
      const haven::v1::ExchangeCheckpointResponse& answer,
      Failure* failure) const;
  // Keeps the failure and logs it (see the class comment); returns the
  // DATA_LOSS status WitnessPeer reports.
  absl::Status RecordFailure(const haven::v1::Member& peer,
                             const Failure& failure,
                             const haven::v1::Checkpoint& presented,
                             const haven::v1::Checkpoint* previous)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The tlog-cosignature line of this node for `checkpoint_text`.
  std::string Cosign(absl::string_view checkpoint_text) const;
  // WitnessPeer without the count.
  absl::Status WitnessPeerUncounted(const haven::v1::Member& peer);

  const Deps deps_;
  metrics::Counter* rounds_ = nullptr;  // null without metrics
  absl::Mutex mu_;                      // one witnessing round at a time
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_WITNESS_H_
