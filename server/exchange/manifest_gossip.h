// ManifestGossip: how a federation manifest the operators signed reaches
// every member without a central server. Every node serves the manifest it
// holds (GetManifest) and says its serial in each checkpoint exchange, both
// ways; a node that hears of a higher serial than its own fetches that
// peer's manifest and offers it to the ManifestUpdater, which applies it
// only if the operators' signatures verify (so a relaying member cannot
// forge, alter or roll back membership) and logs a refusal otherwise.
//
// One fetch at a time: a node that hears of the same serial from several
// peers fetches it once. Thread-safe; borrows its Deps.
#ifndef HAVEN_SERVER_EXCHANGE_MANIFEST_GOSSIP_H_
#define HAVEN_SERVER_EXCHANGE_MANIFEST_GOSSIP_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "haven/v1/federation.pb.h"
#include "server/exchange/peer_client.h"
#include "server/federation/manifest.h"
#include "server/federation/manifest_update.h"

namespace haven::server::exchange {

class ManifestGossip {
 public:
  struct Deps {
    const federation::FederationRegistry* federation = nullptr;
    federation::ManifestUpdater* updater = nullptr;
    PeerClient* peers = nullptr;
  };
  explicit ManifestGossip(Deps deps) : deps_(deps) {}

  // `peer` says it holds manifest `serial`. If that is above the serial in
  // force, fetches the peer's manifest and offers it. OK when there was
  // nothing to fetch or the manifest was applied; the fetch's or the
  // refusal's error otherwise.
  absl::Status OnPeerSerial(const haven::v1::Member& peer, uint64_t serial);

 private:
  const Deps deps_;
  absl::Mutex fetch_mu_;
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_MANIFEST_GOSSIP_H_
