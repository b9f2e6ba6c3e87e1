#include "server/exchange/peer_sender.h"

#include "absl/strings/str_cat.h"
#include "server/node/event_log.h"

namespace haven::server::exchange {

absl::Status PeerSender::Send(const haven::v1::OutboxMessage& message) const {
  auto manifest = federation_->current();
  const haven::v1::Member* peer = manifest->Find(message.to_agency_id());
  if (peer == nullptr) {
    return absl::NotFoundError("peer is no longer in the federation");
  }
  // Refused for good, so the outbox drops it: what a suspended member was
  // owed is not delivered if it is reinstated later (the reinstatement
  // issues what it should hold then).
  if (peer->status() != haven::v1::MEMBER_ACTIVE) {
    return absl::PermissionDeniedError("peer is suspended");
  }
  const bool offer = message.has_offer_handle();
  absl::Status sent =
      offer ? peers_->OfferHandle(*peer, message.offer_handle())
            : peers_->NotifyRevocation(*peer, message.revocation_notice());
  node::LogEvent(offer ? (sent.ok() ? "handle_sent" : "handle_send_failed")
                       : (sent.ok() ? "revocation_notice_sent"
                                    : "revocation_notice_failed"),
                 {{"to", peer->agency_id()},
                  {"status", absl::StatusCodeToString(sent.code())}});
  return sent;
}

}  // namespace haven::server::exchange
