// PeerOutbox: the messages this node owes its peers, kept until each peer
// has accepted its own.
//
// A grantee that is down when a survivor's consent is recorded must still
// get the subject handle, and a grantee told nothing of a revocation keeps
// asking in vain; so offers and notices are stored in the same commit as
// the change they announce, and retried by DeliverPending until the peer
// accepts them, or refuses them for good. Delivery is at least once: the
// receiving calls are idempotent (a handle is stored once; a notice is
// logged again).
//
// Stored in the kExchange family ("o/<time>/<random id>"), each message
// sealed and bound to its key; a message that does not open is never sent
// (the pass reports DATA_LOSS). Thread-safe; delivery passes do not overlap,
// and a pass asked for while one runs runs right after it.
#ifndef HAVEN_SERVER_EXCHANGE_PEER_OUTBOX_H_
#define HAVEN_SERVER_EXCHANGE_PEER_OUTBOX_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "haven/v1/exchange.pb.h"
#include "server/audit/audit_log.h"
#include "server/crypto/state_sealer.h"
#include "server/storage/storage.h"

namespace haven::server::exchange {

class PeerOutbox {
 public:
  // Sends one message to its peer. OK means the peer accepted it.
  using Sender =
      std::function<absl::Status(const haven::v1::OutboxMessage& message)>;

  struct PassResult {
    int delivered = 0;  // accepted by the peer, removed
    int pending = 0;    // peer unreachable or not ready; kept for next pass
    int dropped = 0;    // refused for good (see IsPermanent); removed
    // DATA_LOSS if a stored message did not open (it is left alone).
    absl::Status status;
  };

  // All borrowed; must outlive the outbox. Removals are committed through
  // `log` (AuditLog::CommitState) so the state summary stays true.
  PeerOutbox(storage::Storage* storage, const crypto::StateSealer* sealer,
             audit::AuditLog* log)
      : storage_(storage), sealer_(sealer), log_(log) {}

  // Adds storing `message` (stamped with `now`) to `batch`; the caller
  // commits it with the change it announces.
  void Add(haven::v1::OutboxMessage message, absl::Time now,
           storage::WriteBatch* batch) const;

  // Tries every stored message, oldest first. If a pass is already running,
  // asks it to run once more and returns an empty result at once.
  PassResult DeliverPending(const Sender& send);

  // Refusals that retrying cannot change: the peer says the message is not
  // for it or not from us, or the peer left the federation.
  static bool IsPermanent(const absl::Status& status);

  // Messages each peer (by agency id) was still owed at the end of the last
  // delivery pass; empty before the first. For the outbox backlog metric:
  // messages added since that pass are not counted until the next one.
  absl::flat_hash_map<std::string, int64_t> PendingByPeer() const;

 private:
  PassResult OnePass(const Sender& send);

  storage::Storage* const storage_;
  const crypto::StateSealer* const sealer_;
  audit::AuditLog* const log_;
  mutable absl::Mutex mu_;
  bool delivering_ ABSL_GUARDED_BY(mu_) = false;
  bool again_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<std::string, int64_t> pending_by_peer_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_PEER_OUTBOX_H_
