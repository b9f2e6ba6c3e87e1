// Requester: asks a peer (the holder) for a subject's data on behalf of a
// local caseworker, and checks everything the holder says before anything
// reaches the caseworker.
//
// Requests to one holder go in signed batches over mutual TLS: while
// Deps::max_batches_in_flight batches to that holder are out, new requests
// wait and then leave together, signed once (as the audit log
// group-commits). A lone request leaves at once, as a batch of one. The
// holder's answers must be signed by its manifest key over the batch, answer
// these very requests, and carry the holder's audit entry for each with a
// checkpoint signed by the holder and an inclusion proof that verifies.
// Then a receipt entry is written durably to this node's log; if it cannot
// be written, the fields are not returned (UNAVAILABLE). A refusal by the
// holder is logged here too, so both sides of every exchange are on record.
//
// No thread waits on the way: the holder's answers and the receipt's commit
// each arrive through a callback. Thread-safe.
#ifndef HAVEN_SERVER_EXCHANGE_REQUESTER_H_
#define HAVEN_SERVER_EXCHANGE_REQUESTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/verify/signed_note.h"
#include "haven/v1/exchange.pb.h"
#include "haven/base/clock.h"
#include "server/audit/audit_recorder.h"
#include "server/crypto/ed25519_signer.h"
#include "server/exchange/disclosure_transport.h"
#include "server/federation/manifest.h"

namespace haven::server::exchange {

class Requester {
 public:
  // Everything borrowed; must outlive the Requester.
  struct Deps {
    std::string agency_id;
    const Clock* clock = nullptr;
    const crypto::Ed25519Signer* signer = nullptr;
    const federation::FederationRegistry* federation = nullptr;
    DisclosureTransport* peers = nullptr;
    const audit::AuditRecorder* audit = nullptr;
    // Batches to one holder that may be in flight at once (at least 1).
    int max_batches_in_flight = 2;
    // Requests that may wait for a batch to one holder; more are refused at
    // once (UNAVAILABLE), so a holder that answers slowly cannot make this
    // node hold ever more requests.
    int max_waiting = 1024;
  };
  explicit Requester(Deps deps);
  // Requests still waiting are dropped unanswered: destroy only once the
  // RPC server has stopped.
  ~Requester();

  using RequestDone = absl::AnyInvocable<void(
      absl::StatusOr<haven::v1::RequestDisclosureResponse>)>;

  // Asks the holder on behalf of local `principal` and returns at once.
  // `done` runs exactly once, on this thread for a request that is refused
  // before it is sent, otherwise on a transport or audit-log thread; it
  // must not block.
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
  using Exchanges = std::vector<std::unique_ptr<Exchange>>;
  // Requests waiting for a batch to `holder`, and batches out.
  struct HolderQueue {
    Exchanges waiting;
    int in_flight = 0;
  };

  // Sends what waits for `holder_id` if a batch may leave now.
  void SendWaiting(const std::string& holder_id) ABSL_LOCKS_EXCLUDED(mu_);
  // Checks a batch's answers, then completes each exchange.
  void OnBatchAnswered(const haven::v1::Member& holder, Exchanges batch,
                       absl::StatusOr<haven::v1::DiscloseResponse> answers);
  // The verified answer to `exchange` at place `index` of `answers`.
  absl::StatusOr<haven::v1::RequestDisclosureResponse> CheckAnswer(
      const haven::v1::Member& holder, const Exchange& exchange,
      const haven::v1::DiscloseResponse& answers,
      const std::vector<std::string>& digests, int index) const;
  // Checks the holder's disclosure to `sent`.
  absl::Status VerifyDisclosure(const haven::v1::Member& holder,
                                const haven::v1::DisclosureRequest& sent,
                                const haven::v1::Disclosure& disclosure) const;
  // The holder's checkpoint `note`, verified under its manifest key.
  absl::StatusOr<client::CheckpointBody> VerifyHolderCheckpoint(
      const haven::v1::Member& holder, const std::string& note) const;
  // Writes the receipt for `exchange`'s outcome, then calls its done.
  void Complete(
      std::unique_ptr<Exchange> exchange,
      absl::StatusOr<haven::v1::RequestDisclosureResponse> outcome) const;

  const Deps deps_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, HolderQueue> queues_ ABSL_GUARDED_BY(mu_);

  // The last checkpoint verified per holder, with the key it verified
  // under. The holder proves every answer of a batch against one
  // checkpoint, so most answers carry a note already checked; a
  // byte-identical note under the same key needs no second check.
  struct VerifiedCheckpoint {
    std::string verifier_key;  // the member's keys when it was verified
    std::string note;
    client::CheckpointBody body;
  };
  mutable absl::Mutex checkpoints_mu_;
  mutable absl::flat_hash_map<std::string, VerifiedCheckpoint> checkpoints_
      ABSL_GUARDED_BY(checkpoints_mu_);
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_REQUESTER_H_
