// PeerService: node-to-node calls over mutual TLS.
#ifndef HAVEN_SERVER_SERVICES_PEER_SERVICE_H_
#define HAVEN_SERVER_SERVICES_PEER_SERVICE_H_

#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "server/exchange/checkpoint_exchange.h"
#include "server/exchange/grantee_inbox.h"
#include "server/exchange/holder.h"
#include "server/federation/manifest.h"
#include "server/services/peer_unary.h"

namespace haven::server::services {

class PeerServiceImpl final : public haven::v1::PeerService::CallbackService {
 public:
  // The modules it adapts; borrowed, they outlive the service.
  struct Deps {
    exchange::Holder* holder = nullptr;
    exchange::GranteeInbox* inbox = nullptr;
    const exchange::CheckpointExchange* checkpoints = nullptr;
    const federation::FederationRegistry* federation = nullptr;
  };
  PeerServiceImpl(const RpcEnv& env, Deps deps) : env_(env), deps_(deps) {}

  HAVEN_PEER_RPC(Echo, EchoRequest, EchoResponse) {
    HAVEN_RETURN_IF_ERROR(CheckMaxBytes(request.payload(), "payload",
                                        limits::kMaxEchoPayloadBytes));
    response->set_payload(request.payload());
    return absl::OkStatus();
  }
  HAVEN_ASYNC_PEER_RPC(Disclose, DiscloseRequest, DiscloseResponse);
  HAVEN_PEER_RPC(OfferHandle, OfferHandleRequest, OfferHandleResponse);
  HAVEN_PEER_RPC(NotifyRevocation, NotifyRevocationRequest,
                 NotifyRevocationResponse);
  // Open while the rollback guard holds: it is how peers confirm the log.
  HAVEN_PEER_RPC_GATED(ExchangeCheckpoint, ExchangeCheckpointRequest,
                       ExchangeCheckpointResponse, kAlways);
  // Open while the rollback guard holds: membership is not the log's, and
  // a suspension must reach a node that is waiting for its peers.
  HAVEN_PEER_RPC_GATED(GetManifest, GetManifestRequest, GetManifestResponse,
                       kAlways) {
    response->set_signed_manifest(deps_.federation->current()->signed_note());
    return absl::OkStatus();
  }

 private:
  const RpcEnv& env_;
  const Deps deps_;
};

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_PEER_SERVICE_H_
