// RunUnary: the one shape every unary RPC of the node takes.
//
//   1. authenticate the caller and check its role (before anything else);
//   2. run the body on the work pool, off the reactor thread;
//   3. finish with the body's status, converted in one place.
//
// The body fills the response and returns an absl::Status whose message is
// safe to show the caller (no content, keys or tokens).
//
// RunAsyncUnary is the same for a body that never waits: it starts its work
// (CPU work, calls that end in callbacks) on the reactor thread and
// finishes the RPC from the callback that completes it, so no thread is
// held while it waits. RunUnary is RunAsyncUnary with a body that moves to
// the pool and finishes when it returns.
#ifndef HAVEN_SERVER_SERVICES_UNARY_H_
#define HAVEN_SERVER_SERVICES_UNARY_H_

#include <functional>
#include <initializer_list>

#include "absl/functional/any_invocable.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "haven/base/grpc_status.h"
#include "server/auth/authenticator.h"
#include "server/services/rpc_env.h"
#include "server/services/work_pool.h"
#include "server/storage/storage.h"

namespace haven::server::services {

// Ends an RPC with a body's status; call exactly once, from any thread.
using FinishRpc = absl::AnyInvocable<void(absl::Status)>;

inline FinishRpc Finisher(grpc::ServerUnaryReactor* reactor) {
  return [reactor](const absl::Status& status) {
    reactor->Finish(ToGrpcStatus(status));
  };
}

// The callback for a module's asynchronous answer: fills `response` when
// there is one, then finishes the RPC with the answer's status.
template <typename Response>
absl::AnyInvocable<void(absl::StatusOr<Response>)> FillThenFinish(
    Response* response, FinishRpc finish) {
  return [response,
          finish = std::move(finish)](absl::StatusOr<Response> answer) mutable {
    absl::Status status = answer.status();
    if (status.ok()) *response = *std::move(answer);
    finish(std::move(status));
  };
}

using AsyncUnaryBody =
    absl::AnyInvocable<void(const auth::Principal&, FinishRpc)>;

// UNAVAILABLE once the node's storage has stopped after a failed write:
// the node is going down and answers nothing until it has restarted.
inline absl::Status CheckServing(const RpcEnv& env) {
  if (env.storage != nullptr && env.storage->stopped()) {
    return absl::UnavailableError(
        "the node stopped after a storage failure and is restarting");
  }
  return absl::OkStatus();
}

// The caller of a local RPC, once the node is known to be serving and the
// caller holds one of `roles`. For streaming RPCs too.
inline absl::StatusOr<auth::Principal> Authenticate(
    grpc::CallbackServerContext* context, const RpcEnv& env,
    std::initializer_list<haven::v1::Role> roles) {
  if (absl::Status serving = CheckServing(env); !serving.ok()) return serving;
  return env.authenticator->Require(*context, roles);
}

inline grpc::ServerUnaryReactor* RunAsyncUnary(
    grpc::CallbackServerContext* context, const RpcEnv& env,
    std::initializer_list<haven::v1::Role> roles, AsyncUnaryBody body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Principal> principal = Authenticate(context, env, roles);
  if (!principal.ok()) {
    reactor->Finish(ToGrpcStatus(principal.status()));
    return reactor;
  }
  body(*principal, Finisher(reactor));
  return reactor;
}

using UnaryBody = std::function<absl::Status(const auth::Principal&)>;

inline grpc::ServerUnaryReactor* RunUnary(
    grpc::CallbackServerContext* context, const RpcEnv& env,
    std::initializer_list<haven::v1::Role> roles, UnaryBody body) {
  WorkPool* pool = env.pool;
  return RunAsyncUnary(
      context, env, roles,
      [pool, body = std::move(body)](const auth::Principal& who,
                                     FinishRpc finish) mutable {
        pool->Schedule(
            [who, body = std::move(body),
             finish = std::move(finish)]() mutable { finish(body(who)); });
      });
}

// For the few RPCs a caller makes before it has a token (signing in,
// enrolling): no authentication, an empty principal; the body checks what
// the request proves. Everything else as RunUnary.
inline grpc::ServerUnaryReactor* RunOpenUnary(
    grpc::CallbackServerContext* context, const RpcEnv& env, UnaryBody body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status serving = CheckServing(env); !serving.ok()) {
    reactor->Finish(ToGrpcStatus(serving));
    return reactor;
  }
  env.pool->Schedule(
      [body = std::move(body), finish = Finisher(reactor)]() mutable {
        finish(body(auth::Principal{}));
      });
  return reactor;
}

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_UNARY_H_
