// PeerSender: delivers one outbox message (a handle offer or a revocation
// notice) to the member it is addressed to, over PeerClient. The
// PeerOutbox::Sender of a node: the outbox decides when to retry, this
// decides whether a member may still receive and says what happened in the
// event log (handle_sent, handle_send_failed, revocation_notice_sent,
// revocation_notice_failed).
//
// Thread-safe; borrows the registry and the client, which must outlive it.
#ifndef HAVEN_SERVER_EXCHANGE_PEER_SENDER_H_
#define HAVEN_SERVER_EXCHANGE_PEER_SENDER_H_

#include "absl/status/status.h"
#include "haven/v1/exchange.pb.h"
#include "server/exchange/peer_client.h"
#include "server/exchange/peer_outbox.h"
#include "server/federation/manifest.h"

namespace haven::server::exchange {

class PeerSender {
 public:
  PeerSender(const federation::FederationRegistry* federation,
             PeerClient* peers)
      : federation_(federation), peers_(peers) {}

  // Sends `message` to its addressee in the current manifest. NOT_FOUND if
  // the member was removed and FAILED_PRECONDITION if it is suspended
  // (nothing is sent then); otherwise the peer's answer.
  absl::Status Send(const haven::v1::OutboxMessage& message) const;

  // Send as a PeerOutbox::Sender; this object must outlive it.
  PeerOutbox::Sender AsSender() const {
    return [this](const haven::v1::OutboxMessage& message) {
      return Send(message);
    };
  }

 private:
  const federation::FederationRegistry* const federation_;
  PeerClient* const peers_;
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_PEER_SENDER_H_
