// Holder: answers a peer's disclosure request, as the agency that holds the
// data.
//
// The peer's identity is the manifest member its certificate matched (given
// by the caller); the signed request must verify under that member's key and
// name the same agency. Then: replay and clock checks, the handle (issued to
// this peer, or the same NOT_FOUND as an unknown one), the need-to-know
// decision on the live policy and the subject's consents, the audit entry
// written durably, and only then the allowed fields, signed, with the entry's
// index, checkpoint and inclusion proof. Every refusal is logged too.
//
// The decision is CPU work and local reads; the one wait, for the audit
// entry's commit, ends in a callback, so no thread blocks on it.
// Thread-safe.
#ifndef HAVEN_SERVER_EXCHANGE_HOLDER_H_
#define HAVEN_SERVER_EXCHANGE_HOLDER_H_

#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "haven/v1/exchange.pb.h"
#include "haven/v1/federation.pb.h"
#include "policy/clock.h"
#include "policy/policy_holder.h"
#include "server/audit/audit_recorder.h"
#include "server/consent/consent_registry.h"
#include "server/crypto/ed25519_signer.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/replay_guard.h"
#include "server/vault/record_vault.h"

namespace haven::server::exchange {

class Holder {
 public:
  // Everything borrowed; must outlive the Holder.
  struct Deps {
    std::string agency_id;
    const policy::Clock* clock = nullptr;
    const crypto::Ed25519Signer* signer = nullptr;
    ReplayGuard* replay = nullptr;
    const HandleStore* handles = nullptr;
    const policy::PolicyHolder* policy = nullptr;
    consent::ConsentRegistry* consents = nullptr;
    const vault::RecordVault* vault = nullptr;
    const audit::AuditRecorder* audit = nullptr;
  };
  explicit Holder(Deps deps) : deps_(std::move(deps)) {}

  using DiscloseDone =
      absl::AnyInvocable<void(absl::StatusOr<haven::v1::SignedDisclosure>)>;

  // Decides on `signed_request` from `peer`, queues the audit entry and
  // returns; `done` runs exactly once, on the audit log's commit thread once
  // the entry is durable (or could not be written: UNAVAILABLE), and must
  // not block.
  void DiscloseAsync(const haven::v1::Member& peer,
                     const haven::v1::SignedDisclosureRequest& signed_request,
                     DiscloseDone done);
  // As DiscloseAsync, waiting for the answer.
  absl::StatusOr<haven::v1::SignedDisclosure> Disclose(
      const haven::v1::Member& peer,
      const haven::v1::SignedDisclosureRequest& signed_request);

 private:
  // What Decide reached, not yet on record: a refusal (`refused` not OK),
  // or a disclosure waiting for its entry's index.
  struct Outcome {
    absl::Status refused;
    haven::v1::AuditEntry entry;
    std::string principal;
    std::string subject_id;
    // A disclosure: everything but the audit index, checkpoint, proof and
    // leaf; and the consent uses it took, given back if it is not logged.
    haven::v1::Disclosure disclosure;
    consent::ConsentRegistry::TakenUses taken;
  };

  Outcome Decide(const haven::v1::Member& peer,
                 const haven::v1::SignedDisclosureRequest& signed_request);
  // A refusal that happened before any decision, logged with what the
  // signed request says.
  static Outcome Refusal(const haven::v1::Member& peer,
                         const haven::v1::DisclosureRequest& request,
                         const std::string& subject_id, absl::Status why);
  // The refusal of a request that does not parse or whose signature does
  // not verify, logged with nothing from its body.
  static Outcome UnsignedRefusal(const haven::v1::Member& peer,
                                 absl::Status why);
  // Completes `disclosure` for the entry at `index` and signs it.
  absl::StatusOr<haven::v1::SignedDisclosure> Seal(
      haven::v1::Disclosure disclosure, uint64_t index) const;

  const Deps deps_;
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_HOLDER_H_
