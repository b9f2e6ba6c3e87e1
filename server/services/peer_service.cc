#include "server/services/peer_service.h"

#include "absl/strings/str_cat.h"
#include "haven/base/status_macros.h"
#include "server/exchange/grantee_inbox.h"
#include "server/exchange/holder.h"
#include "server/node/event_log.h"

namespace haven::server::services {

void PeerServiceImpl::DoDisclose(const haven::v1::Member& peer,
                                 const haven::v1::DiscloseRequest& request,
                                 haven::v1::DiscloseResponse* response,
                                 FinishRpc finish) {
  deps_.holder->DiscloseAsync(
      peer, request,
      [response, finish = std::move(finish)](
          absl::StatusOr<haven::v1::DiscloseResponse> answers) mutable {
        absl::Status status = answers.status();
        if (status.ok()) *response = *std::move(answers);
        finish(std::move(status));
      });
}

absl::Status PeerServiceImpl::DoOfferHandle(
    const haven::v1::Member& peer, const haven::v1::OfferHandleRequest& request,
    haven::v1::OfferHandleResponse*) {
  HAVEN_RETURN_IF_ERROR(deps_.inbox->AcceptHandle(peer, request));
  node::LogEvent("handle_received", {{"holder", peer.agency_id()}});
  return absl::OkStatus();
}

absl::Status PeerServiceImpl::DoNotifyRevocation(
    const haven::v1::Member& peer,
    const haven::v1::NotifyRevocationRequest& request,
    haven::v1::NotifyRevocationResponse*) {
  HAVEN_RETURN_IF_ERROR(deps_.inbox->AcceptNotice(peer, request));
  node::LogEvent(
      "revocation_notice_received",
      {{"holder", peer.agency_id()}, {"change", request.notice().change()}});
  return absl::OkStatus();
}

absl::Status PeerServiceImpl::DoExchangeCheckpoint(
    const haven::v1::Member& peer,
    const haven::v1::ExchangeCheckpointRequest& request,
    haven::v1::ExchangeCheckpointResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(*response, deps_.checkpoints->Answer(peer, request));
  return absl::OkStatus();
}

}  // namespace haven::server::services
