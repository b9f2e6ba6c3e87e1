// ConsentFanout: what a change of a survivor's consents means for the peer
// agencies, committed with the change (a consent::ConsentObserver).
//
// A grantee agency holds a handle for a subject exactly while some consent
// to it (by agency or by its sector) is active or paused and not expired:
// the first such consent issues the handle and queues its offer; when the
// last one is revoked or has expired (ConsentRegistry::SweepExpired finds
// those), the handle is withdrawn (requests
// naming it get the same NOT_FOUND as an unknown handle) and a notice is
// queued. A pause, or a refusal of every agency recorded, queues a notice
// to every grantee holding a handle. A refusal of one agency withdraws that
// agency's handle only (notice "refused", naming no consent) and tells no
// one else; lifting it issues a new handle if a consent still covers the
// agency. Only an active member of the federation holds a handle:
// when the manifest changes (ConsentRegistry::ReconcileMembers, a change of
// kind kMembershipChanged), a member that joined a granted sector, was
// added or was reinstated gets a handle for each subject a live consent
// covers it for, and one that left the sector, was removed or suspended
// has it withdrawn with a notice naming no consent. Each issue and
// withdrawal has its audit entry; all of it is in the change's commit.
// Delivery starts once the commit is durable.
//
// Thread-safe (called under the registry's mutation lock).
#ifndef HAVEN_SERVER_EXCHANGE_CONSENT_FANOUT_H_
#define HAVEN_SERVER_EXCHANGE_CONSENT_FANOUT_H_

#include <functional>
#include <string>

#include "haven/base/clock.h"
#include "server/audit/audit_recorder.h"
#include "server/consent/consent_observer.h"
#include "server/crypto/ed25519_signer.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/peer_outbox.h"
#include "server/federation/manifest.h"

namespace haven::server::exchange {

class ConsentFanout final : public consent::ConsentObserver {
 public:
  // Everything borrowed; must outlive the fanout.
  struct Deps {
    std::string agency_id;
    const Clock* clock = nullptr;
    const crypto::Ed25519Signer* signer = nullptr;
    const federation::FederationRegistry* federation = nullptr;
    const HandleStore* handles = nullptr;
    const PeerOutbox* outbox = nullptr;
    const audit::AuditRecorder* audit = nullptr;
    // Starts a delivery pass of the outbox (on another thread).
    std::function<void()> deliver;
  };
  explicit ConsentFanout(Deps deps) : deps_(std::move(deps)) {}

  absl::Status OnConsentChange(const consent::ConsentChange& change,
                               audit::Action* action) override;
  void AfterCommit() override;

 private:
  // Queues a signed notice about `handle` to its grantee; `withdrawn` when
  // the handle is withdrawn with it.
  void Notify(const haven::v1::SubjectHandle& handle,
              const std::string& consent_id, const std::string& what,
              bool withdrawn, audit::Action* action) const;

  const Deps deps_;
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_CONSENT_FANOUT_H_
