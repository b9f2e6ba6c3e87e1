// RunPeerUnary: the shape of every PeerService RPC. The caller is identified
// from its verified client certificate and the current manifest (never from
// the request), suspended members are refused, then the body runs on the
// work pool with the caller's manifest entry.
//
// Peers are refused (FAILED_PRECONDITION) while the node's RollbackGuard
// holds, except for calls marked PeerGate::kAlways: the checkpoint
// exchange, through which the peers confirm the node's log.
//
// RunAsyncPeerUnary is the same for a body that never waits (see
// RunAsyncUnary): it starts its work on the pool and finishes the RPC from
// the callback that completes it, so no pool thread is held while it waits.
#ifndef HAVEN_SERVER_SERVICES_PEER_UNARY_H_
#define HAVEN_SERVER_SERVICES_PEER_UNARY_H_

#include <functional>

#include "absl/functional/any_invocable.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "haven/v1/federation.pb.h"
#include "server/federation/peer_identity.h"
#include "haven/base/grpc_status.h"
#include "server/services/rpc_env.h"
#include "server/services/unary.h"

namespace haven::server::services {

using AsyncPeerBody =
    absl::AnyInvocable<void(const haven::v1::Member&, FinishRpc)>;

enum class PeerGate {
  kServing,  // only while the node serves peers (rollback_guard.h)
  kAlways,   // also while it holds
};

inline grpc::ServerUnaryReactor* RunAsyncPeerUnary(
    grpc::CallbackServerContext* call, const RpcEnv& env, AsyncPeerBody body,
    PeerGate gate = PeerGate::kServing) {
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  if (absl::Status serving = CheckServing(env); !serving.ok()) {
    reactor->Finish(ToGrpcStatus(serving));
    return reactor;
  }
  auto auth = call->auth_context();
  auto manifest = env.federation->current();
  absl::StatusOr<haven::v1::Member> peer =
      auth == nullptr ? absl::UnauthenticatedError("no TLS client certificate")
                      : federation::IdentifyPeer(*auth, *manifest);
  if (!peer.ok()) {
    reactor->Finish(ToGrpcStatus(peer.status()));
    return reactor;
  }
  if (gate == PeerGate::kServing && env.rollback != nullptr) {
    if (absl::Status held = env.rollback->CheckServingPeers(); !held.ok()) {
      reactor->Finish(ToGrpcStatus(held));
      return reactor;
    }
  }
  env.pool->Schedule([peer = *std::move(peer), body = std::move(body),
                           finish = Finisher(reactor)]() mutable {
    body(peer, std::move(finish));
  });
  return reactor;
}

using PeerBody = std::function<absl::Status(const haven::v1::Member&)>;

inline grpc::ServerUnaryReactor* RunPeerUnary(
    grpc::CallbackServerContext* call, const RpcEnv& env, PeerBody body,
    PeerGate gate = PeerGate::kServing) {
  return RunAsyncPeerUnary(
      call, env,
      [body = std::move(body)](const haven::v1::Member& peer,
                               FinishRpc finish) { finish(body(peer)); },
      gate);
}

}  // namespace haven::server::services

#define HAVEN_PEER_RPC(Method, Request, Response) \
  HAVEN_PEER_RPC_GATED(Method, Request, Response, kServing)

// HAVEN_PEER_RPC with a PeerGate (kServing or kAlways).
#define HAVEN_PEER_RPC_GATED(Method, Request, Response, Gate)                \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* call,        \
                                   const haven::v1::Request* request,        \
                                   haven::v1::Response* response) override { \
    return ::haven::server::services::RunPeerUnary(                          \
        call, env_,                                                          \
        [this, request, response](const haven::v1::Member& peer) {           \
          return Do##Method(peer, *request, response);                       \
        },                                                                   \
        ::haven::server::services::PeerGate::Gate);                          \
  }                                                                          \
  absl::Status Do##Method(const haven::v1::Member& peer,                     \
                          const haven::v1::Request& request,                 \
                          haven::v1::Response* response)

// HAVEN_ASYNC_PEER_RPC: the same for a body that never waits:
// `void Do<Method>(const Member&, const Req&, Resp*, FinishRpc finish)`
// fills the response, then calls finish once.
#define HAVEN_ASYNC_PEER_RPC(Method, Request, Response)                        \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* call,          \
                                   const haven::v1::Request* request,          \
                                   haven::v1::Response* response) override {   \
    return ::haven::server::services::RunAsyncPeerUnary(                       \
        call, env_,                                                        \
        [this, request, response](const haven::v1::Member& peer,               \
                                  ::haven::server::services::FinishRpc done) { \
          Do##Method(peer, *request, response, std::move(done));               \
        });                                                                    \
  }                                                                            \
  void Do##Method(const haven::v1::Member& peer,                               \
                  const haven::v1::Request& request,                           \
                  haven::v1::Response* response,                               \
                  ::haven::server::services::FinishRpc finish)

#endif  // HAVEN_SERVER_SERVICES_PEER_UNARY_H_
