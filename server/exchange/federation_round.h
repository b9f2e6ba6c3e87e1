// FederationRound: what a node does about its peers in the background, in
// one place and one order. Each round:
//   1. witnesses every active peer's checkpoint (peers_witnessed);
//   2. withdraws the handles of consents that ran out, as a revocation
//      would (consents_expired / consent_expiry_failed);
//   3. on the first round only, brings every listed member's handles in
//      line with the manifest, which may have changed while the node was
//      down (membership_handles / membership_handles_failed); after the
//      expiry sweep, so that a consent that ran out is reported as such
//      rather than as a membership change;
//   4. delivers what the peer outbox holds (peer_outbox).
// The node's thread only waits the interval and calls RunOnce.
//
// ReconcileMembers is also what a manifest install runs for the members it
// changed. Thread-safe as its modules are; RunOnce is meant for one thread
// (the first-round flag is atomic, so a second caller does no harm).
// Borrows everything in Deps; each must outlive it.
#ifndef HAVEN_SERVER_EXCHANGE_FEDERATION_ROUND_H_
#define HAVEN_SERVER_EXCHANGE_FEDERATION_ROUND_H_

#include <atomic>
#include <string>
#include <vector>

#include "server/consent/consent_registry.h"
#include "server/exchange/peer_outbox.h"
#include "server/exchange/witness.h"
#include "server/federation/manifest.h"

namespace haven::server::exchange {

class FederationRound {
 public:
  struct Deps {
    const federation::FederationRegistry* federation = nullptr;
    Witness* witness = nullptr;
    consent::ConsentRegistry* consents = nullptr;
    PeerOutbox* outbox = nullptr;
    // Sends one outbox message (PeerSender::AsSender in a node).
    PeerOutbox::Sender send;
  };
  explicit FederationRound(Deps deps) : deps_(std::move(deps)) {}

  // One round, steps in the order above.
  void RunOnce();

  // Issues and withdraws the handles that membership changes of `agencies`
  // mean (ConsentRegistry::ReconcileMembers), and logs the outcome. Does
  // nothing for an empty list.
  void ReconcileMembers(std::vector<std::string> agencies);

  // One pass of the peer outbox on the calling thread, logged when it
  // touched anything.
  PeerOutbox::PassResult DeliverOutbox();

 private:
  const Deps deps_;
  std::atomic<bool> first_round_{true};
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_FEDERATION_ROUND_H_
