// CheckpointExchange: this node's side of a peer's checkpoint exchange (the
// peer's Witness calls it). In order: the caller's checkpoint and note are
// bounded like everything a peer sends, before the contact counts for
// anything; the contact is reported (the peer is up, so what the outbox
// holds for it can go, and a newer manifest it holds can be fetched); this
// node's latest checkpoint is answered with a
// consistency proof from the size the caller saw; and the caller's
// cosignature of that checkpoint is kept if it verifies
// (CosignatureStore::Accept).
//
// Thread-safe; borrows the log and the store, which must outlive it.
#ifndef HAVEN_SERVER_EXCHANGE_CHECKPOINT_EXCHANGE_H_
#define HAVEN_SERVER_EXCHANGE_CHECKPOINT_EXCHANGE_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "haven/v1/exchange.pb.h"
#include "haven/v1/federation.pb.h"
#include "server/audit/audit_log.h"
#include "server/exchange/cosignature_store.h"

namespace haven::server::exchange {

class CheckpointExchange {
 public:
  struct Deps {
    const audit::AuditLog* log = nullptr;
    CosignatureStore* cosignatures = nullptr;
    // A member agency called to exchange checkpoints (it is up, and says
    // which manifest serial it holds), once its request is bounded; may be
    // empty.
    std::function<void(const haven::v1::Member& peer,
                       const haven::v1::ExchangeCheckpointRequest& request)>
        on_contact;
    // The serial of the manifest in force, answered so that a caller
    // holding an older one fetches this node's; may be empty (0).
    std::function<uint64_t()> manifest_serial;
    // The caller's checkpoint as this node last witnessed it, if it did:
    // answered so that the caller can tell whether its log went back
    // (rollback_guard.h). May be empty.
    std::function<std::optional<haven::v1::Checkpoint>(
        const std::string& agency_id)>
        witnessed_of;
  };
  explicit CheckpointExchange(Deps deps) : deps_(std::move(deps)) {}

  // INVALID_ARGUMENT for an oversized checkpoint or note;
  // FAILED_PRECONDITION if the caller saw a larger tree than this node has;
  // CosignatureStore::Accept's errors for a cosignature it does not keep.
  absl::StatusOr<haven::v1::ExchangeCheckpointResponse> Answer(
      const haven::v1::Member& peer,
      const haven::v1::ExchangeCheckpointRequest& request) const;

 private:
  const Deps deps_;
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_CHECKPOINT_EXCHANGE_H_
