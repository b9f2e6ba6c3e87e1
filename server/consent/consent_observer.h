// ConsentObserver: what a change of a survivor's consents means beyond the
// registry, written in the same commit as the change.
//
// The exchange module implements it (exchange/consent_fanout.h): a consent
// for a peer agency issues that agency a handle and queues the offer; a
// revocation withdraws the handle and queues a notice. The registry calls
// it while the change is being committed, so the handle, the message to the
// peer and their audit entries are durable exactly when the change is.
#ifndef HAVEN_SERVER_CONSENT_CONSENT_OBSERVER_H_
#define HAVEN_SERVER_CONSENT_CONSENT_OBSERVER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "haven/v1/consent.pb.h"
#include "server/audit/action.h"

namespace haven::server::consent {

struct ConsentChange {
  enum class Kind {
    kRecorded,
    kAmended,
    kPaused,
    kResumed,
    kRevoked,
    kRefusalRecorded,
    kRefusalLifted,
    // The consent's validity ended (ConsentRegistry::SweepExpired); no new
    // version is written, `consent` is its last one.
    kExpired,
    // The federation's membership changed for `agencies` (joined or left
    // a sector, suspended, reinstated, added or removed;
    // ConsentRegistry::ReconcileMembers); `consent` is empty.
    kMembershipChanged,
  };
  Kind kind;
  std::string subject_id;
  // The consent changed, as it is now; empty for a refusal change.
  haven::v1::Consent consent;
  // The subject's consents (current versions) after the change.
  std::vector<haven::v1::Consent> subject_consents;
  // Whether the subject has an active refusal of every agency after the
  // change, and the agencies active refusals name one by one.
  bool refused = false;
  std::vector<std::string> refused_agencies;
  // For kRefusalRecorded and kRefusalLifted: the refusal, as it is now.
  haven::v1::Refusal refusal;
  // For kMembershipChanged: the agencies whose membership changed.
  std::vector<std::string> agencies;
  // The advocate who made the change.
  std::string actor;
};

class ConsentObserver {
 public:
  virtual ~ConsentObserver() = default;

  // Adds to `action` the state changes and audit entries that go with
  // `change`. Runs while the registry commits the change, with its
  // mutations locked: it must not call the registry. An error aborts the
  // change (nothing is written).
  virtual absl::Status OnConsentChange(const ConsentChange& change,
                                       audit::Action* action) = 0;
  // Runs once a change is durable (e.g. to start delivering to peers).
  virtual void AfterCommit() = 0;
};

}  // namespace haven::server::consent

#endif  // HAVEN_SERVER_CONSENT_CONSENT_OBSERVER_H_
