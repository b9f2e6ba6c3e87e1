// Holder: answers a peer's disclosure requests, as the agency that holds
// the data.
//
// Requests come in signed batches. The peer's identity is the manifest
// member its certificate matched (given by the caller); the batch signature
// must verify under that member's key, else the whole batch is refused. Then
// each request is decided on its own: it must name the same agency, pass the
// replay and clock checks and name a handle issued to this peer (or get the
// same NOT_FOUND as an unknown one); then the need-to-know decision on the
// live policy and the subject's consents. The consent uses of the batch's
// disclosures are then claimed (ConsentRegistry::ClaimUses): a consent or
// refusal that changed since its decision refuses the request there. Every
// decision, refusals included, is logged with the use counts in one commit,
// and only once it is durable do the allowed fields leave, each answer with
// its entry's index, checkpoint and inclusion proof, the batch of answers
// signed once. A peer sees a refusal only as one of the fixed reasons of
// peer_refusal.h.
//
// Each decision is counted once it is on record, in
// haven_holder_decisions_total{peer, outcome, reason}: outcome "disclosed"
// (reason "permitted" or "break_glass"), "refused" (reason
// "not_permitted" when the need-to-know decision allowed nothing, else the
// PeerRefusalCode), or "failed" (reason "log_unavailable": the log could
// not be written and nothing left). A batch refused whole counts once.
//
// Deciding is CPU work and local reads; the one wait, for the commit, ends
// in a callback, so no thread blocks on it. Thread-safe.
#ifndef HAVEN_SERVER_EXCHANGE_HOLDER_H_
#define HAVEN_SERVER_EXCHANGE_HOLDER_H_

#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "haven/base/clock.h"
#include "haven/v1/exchange.pb.h"
#include "haven/v1/federation.pb.h"
#include "policy/policy_holder.h"
#include "server/audit/audit_recorder.h"
#include "server/consent/consent_registry.h"
#include "server/crypto/ed25519_signer.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/peer_refusal.h"
#include "server/exchange/replay_guard.h"
#include "server/metrics/registry.h"
#include "server/vault/record_vault.h"

namespace haven::server::exchange {

class Holder {
 public:
  // Everything borrowed; must outlive the Holder.
  struct Deps {
    std::string agency_id;
    const Clock* clock = nullptr;
    const crypto::Ed25519Signer* signer = nullptr;
    ReplayGuard* replay = nullptr;
    const HandleStore* handles = nullptr;
    const policy::PolicyHolder* policy = nullptr;
    consent::ConsentRegistry* consents = nullptr;
    const vault::RecordVault* vault = nullptr;
    const audit::AuditRecorder* audit = nullptr;
    // Where decisions are counted; nullptr counts nothing.
    metrics::Registry* metrics = nullptr;
  };
  explicit Holder(Deps deps);

  using DiscloseDone =
      absl::AnyInvocable<void(absl::StatusOr<haven::v1::DiscloseResponse>)>;

  // Decides on each request of `batch` from `peer`, queues the audit
  // entries and returns; `done` runs exactly once, on the audit log's commit
  // thread once the entries are durable, and must not block. It gets one
  // answer per request, or an error for the whole batch: UNAUTHENTICATED or
  // INVALID_ARGUMENT for a batch that cannot be trusted (logged as one
  // refusal), UNAVAILABLE if the log cannot be written (nothing disclosed).
  void DiscloseAsync(const haven::v1::Member& peer,
                     const haven::v1::DiscloseRequest& batch,
                     DiscloseDone done);
  // As DiscloseAsync, waiting for the answers.
  absl::StatusOr<haven::v1::DiscloseResponse> Disclose(
      const haven::v1::Member& peer, const haven::v1::DiscloseRequest& batch);

 private:
  // What Decide reached for one request, not yet on record: a refusal
  // (`refused` not OK), or a decision whose answer waits for its entry's
  // index.
  struct Outcome {
    absl::Status refused;
    haven::v1::DisclosureRequest request;
    haven::v1::AuditEntry entry;
    std::string principal;
    std::string subject_id;
    // A decision: everything but the audit index, checkpoint, proof and
    // leaf; and the consent uses it must claim before it is logged.
    haven::v1::Disclosure disclosure;
    consent::ConsentRegistry::UseClaim claim;
    // The decision metric's reason label (see the class comment).
    absl::string_view reason;
  };
  // A batch between its decisions and its commit.
  struct Batch;

  Outcome Decide(const haven::v1::Member& peer,
                 const std::string& request_bytes);
  // A refusal of a request that parsed, logged with what it says and the
  // fixed reason the peer is given.
  static Outcome Refusal(const haven::v1::Member& peer,
                         const haven::v1::DisclosureRequest& request,
                         const std::string& subject_id, PeerRefusal why);
  // The refusal of a batch that cannot be trusted, logged with nothing from
  // its body, then reported to `done`.
  void RefuseBatch(const haven::v1::Member& peer, PeerRefusal why,
                   DiscloseDone done);
  // Answers every request of `batch`, whose entries start at `first_index`.
  absl::StatusOr<haven::v1::DiscloseResponse> Answer(
      Batch& batch, uint64_t first_index) const;
  // Completes `disclosure` for the entry `leaf` at `index`, proven in the
  // log's tree at `checkpoint`.
  absl::Status Seal(const haven::v1::Checkpoint& checkpoint, uint64_t index,
                    std::string leaf, haven::v1::Disclosure* disclosure) const;

  // Counts one decision (see the class comment), if metrics are kept.
  void CountDecision(const haven::v1::Member& peer, absl::string_view outcome,
                     absl::string_view reason) const;

  const Deps deps_;
  metrics::Counter* decisions_ = nullptr;  // null without metrics
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_HOLDER_H_
