#include "server/services/peer_service.h"

#include "haven/base/status_macros.h"
#include "server/exchange/grantee_inbox.h"
#include "server/exchange/holder.h"

namespace haven::server::services {

void PeerServiceImpl::DoDisclose(const haven::v1::Member& peer,
                                 const haven::v1::DiscloseRequest& request,
                                 haven::v1::DiscloseResponse* response,
                                 FinishRpc finish) {
  deps_.holder->DiscloseAsync(peer, request,
                              FillThenFinish(response, std::move(finish)));
}

absl::Status PeerServiceImpl::DoOfferHandle(
    const haven::v1::Member& peer, const haven::v1::OfferHandleRequest& request,
    haven::v1::OfferHandleResponse*) {
  return deps_.inbox->AcceptHandle(peer, request);
}

absl::Status PeerServiceImpl::DoNotifyRevocation(
    const haven::v1::Member& peer,
    const haven::v1::NotifyRevocationRequest& request,
    haven::v1::NotifyRevocationResponse*) {
  return deps_.inbox->AcceptNotice(peer, request);
}

absl::Status PeerServiceImpl::DoExchangeCheckpoint(
    const haven::v1::Member& peer,
    const haven::v1::ExchangeCheckpointRequest& request,
    haven::v1::ExchangeCheckpointResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(*response, deps_.checkpoints->Answer(peer, request));
  return absl::OkStatus();
}

}  // namespace haven::server::services
