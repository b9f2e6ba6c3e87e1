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
// Thread-safe.
#ifndef HAVEN_SERVER_EXCHANGE_HOLDER_H_
#define HAVEN_SERVER_EXCHANGE_HOLDER_H_

#include <string>

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

  absl::StatusOr<haven::v1::SignedDisclosure> Disclose(
      const haven::v1::Member& peer,
      const haven::v1::SignedDisclosureRequest& signed_request);

 private:
  // Logs a refusal that happened before any decision, then returns `why`.
  absl::Status Refuse(const haven::v1::Member& peer,
                      const haven::v1::DisclosureRequest& request,
                      const std::string& subject_id, absl::Status why);
  // Logs the refusal of a request that does not parse or whose signature
  // does not verify, with nothing from its body, then returns `why`.
  absl::Status RefuseUnsigned(const haven::v1::Member& peer, absl::Status why);

  const Deps deps_;
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_HOLDER_H_
