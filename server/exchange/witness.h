// Witness: keeps, for every peer, the latest checkpoint of the peer's audit
// log that this node has verified — signed by the peer's manifest key and
// consistent with the one it saw before. Auditors compare what two nodes
// witnessed of a third (havenctl audit witnessed), so a node cannot show
// different histories to different members without being caught.
//
// An inconsistent or badly signed checkpoint is never stored: the earlier
// one stays as evidence and the event is logged. Stored in the meta family
// ("witness/<agency>"), through the Storage seam. Thread-safe.
#ifndef HAVEN_SERVER_EXCHANGE_WITNESS_H_
#define HAVEN_SERVER_EXCHANGE_WITNESS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "haven/v1/audit.pb.h"
#include "policy/clock.h"
#include "server/audit/audit_log.h"
#include "server/exchange/peer_client.h"
#include "server/federation/manifest.h"
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
    const policy::Clock* clock = nullptr;
  };
  explicit Witness(Deps deps) : deps_(std::move(deps)) {}

  // Fetches and checks one peer's checkpoint. DATA_LOSS if it is badly
  // signed or inconsistent with what was seen before; UNAVAILABLE if the
  // peer cannot be reached.
  absl::Status WitnessPeer(const haven::v1::Member& peer);
  // Every active peer; returns how many were verified.
  int WitnessAll();

  absl::StatusOr<std::vector<haven::v1::WitnessedCheckpoint>> Witnessed(
      const std::string& agency_id) const;

 private:
  const Deps deps_;
  absl::Mutex mu_;  // one witnessing round at a time
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_WITNESS_H_
