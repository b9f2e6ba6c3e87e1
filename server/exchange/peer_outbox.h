// PeerOutbox: the messages this node owes its peers, kept until each peer
// has accepted its own.
//
// A grantee that is down when a survivor's consent is recorded must still
// get the subject handle, and a grantee told nothing of a revocation keeps
// asking in vain; so offers and notices are stored (synced) before the
// first attempt and retried by DeliverPending until the peer accepts them,
// or refuses them for good. Delivery is at least once: the receiving calls
// are idempotent (a handle is stored once; a notice is logged again).
//
// Stored in the node database (meta family, "exchange/outbox/" prefix);
// keys hold a time and a random id only. Thread-safe; delivery passes do
// not overlap, and a pass asked for while one runs runs right after it.
#ifndef HAVEN_SERVER_EXCHANGE_PEER_OUTBOX_H_
#define HAVEN_SERVER_EXCHANGE_PEER_OUTBOX_H_

#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "haven/v1/exchange.pb.h"
#include "server/storage/database.h"

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
  };

  // `db` must outlive the outbox.
  explicit PeerOutbox(storage::Database* db) : db_(db) {}

  // Stores `message` (stamped with `now`) until a pass delivers it.
  absl::Status Add(haven::v1::OutboxMessage message, absl::Time now);

  // Tries every stored message, oldest first. If a pass is already running,
  // asks it to run once more and returns an empty result at once.
  PassResult DeliverPending(const Sender& send);

  // Refusals that retrying cannot change: the peer says the message is not
  // for it or not from us, or the peer left the federation.
  static bool IsPermanent(const absl::Status& status);

 private:
  PassResult OnePass(const Sender& send);

  storage::Database* const db_;
  absl::Mutex mu_;
  bool delivering_ ABSL_GUARDED_BY(mu_) = false;
  bool again_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_PEER_OUTBOX_H_
