// Requester: asks a peer (the holder) for a subject's data on behalf of a
// local caseworker, and checks everything the holder says before anything
// reaches the caseworker.
//
// The request is signed with this node's key and sent over mutual TLS. The
// answer must be signed by the holder's manifest key, answer this request,
// and carry the holder's audit entry for it with a checkpoint signed by the
// holder and an inclusion proof that verifies. Then a receipt entry is
// written durably to this node's log; if it cannot be written, the fields
// are not returned (UNAVAILABLE). A refusal by the holder is logged here
// too, so both sides of every exchange are on record.
//
// No thread waits on the way: the holder's answer and the receipt's commit
// each arrive through a callback. Thread-safe.
#ifndef HAVEN_SERVER_EXCHANGE_REQUESTER_H_
#define HAVEN_SERVER_EXCHANGE_REQUESTER_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/verify/signed_note.h"
#include "haven/v1/exchange.pb.h"
#include "policy/clock.h"
#include "server/audit/audit_recorder.h"
#include "server/crypto/ed25519_signer.h"
#include "server/exchange/peer_client.h"
#include "server/federation/manifest.h"

namespace haven::server::exchange {

// The origin line of an agency's checkpoints.
std::string CheckpointOrigin(const std::string& agency_id);

class Requester {
 public:
  // Everything borrowed; must outlive the Requester.
  struct Deps {
    std::string agency_id;
    const policy::Clock* clock = nullptr;
    const crypto::Ed25519Signer* signer = nullptr;
    const federation::FederationRegistry* federation = nullptr;
    PeerClient* peers = nullptr;
    const audit::AuditRecorder* audit = nullptr;
  };
  explicit Requester(Deps deps) : deps_(std::move(deps)) {}

  using RequestDone = absl::AnyInvocable<void(
      absl::StatusOr<haven::v1::RequestDisclosureResponse>)>;

  // Asks the holder on behalf of local `principal` and returns at once.
  // `done` runs exactly once, on this thread for a request that is refused
  // before it is sent, otherwise on a gRPC or audit-log thread; it must not
  // block.
  void RequestAsync(const std::string& principal,
                    const haven::v1::RequestDisclosureRequest& request,
                    RequestDone done);
  // As RequestAsync, waiting for the answer.
  absl::StatusOr<haven::v1::RequestDisclosureResponse> Request(
      const std::string& principal,
      const haven::v1::RequestDisclosureRequest& request);

 private:
  // One request on its way: what was sent and what the receipt will say.
  struct Exchange;
  // Checks the holder's answer and writes the receipt, then calls done.
  void OnAnswer(std::unique_ptr<Exchange> exchange,
                absl::StatusOr<haven::v1::SignedDisclosure> answer) const;

  // Checks the holder's signed answer to `sent`; returns the disclosure.
  absl::StatusOr<haven::v1::Disclosure> Verify(
      const haven::v1::Member& holder, const haven::v1::DisclosureRequest& sent,
      const haven::v1::SignedDisclosure& answer) const;
  // The holder's checkpoint `note`, verified under its manifest key.
  absl::StatusOr<client::CheckpointBody> VerifyHolderCheckpoint(
      const haven::v1::Member& holder, const std::string& note) const;

  const Deps deps_;

  // The last checkpoint verified per holder, with the key it verified
  // under. A busy holder signs one checkpoint per group of appends, so most
  // answers carry a note already checked; a byte-identical note under the
  // same key needs no second signature check.
  struct VerifiedCheckpoint {
    std::string verifier_key;
    std::string note;
    client::CheckpointBody body;
  };
  mutable absl::Mutex checkpoints_mu_;
  mutable absl::flat_hash_map<std::string, VerifiedCheckpoint> checkpoints_
      ABSL_GUARDED_BY(checkpoints_mu_);
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_REQUESTER_H_
