// HAVEN_UNARY_RPC declares the gRPC override for one unary method and routes
// it through RunUnary: authenticate, check the role, then run
// `absl::Status Do<Method>(const auth::Principal&, const Req&, Resp*)` on the
// work pool. Keeping this in one macro means no RPC can forget the role
// check. The class must have a `const RpcEnv& env_` member.
#ifndef HAVEN_SERVER_SERVICES_RPC_MACROS_H_
#define HAVEN_SERVER_SERVICES_RPC_MACROS_H_

#include "server/services/unary.h"

#define HAVEN_UNARY_RPC(Method, Request, Response, ...)                      \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* call,        \
                                   const haven::v1::Request* request,        \
                                   haven::v1::Response* response) override { \
    return ::haven::server::services::RunUnary(                              \
        call, env_, {__VA_ARGS__},                                       \
        [this, request,                                                      \
         response](const ::haven::server::auth::Principal& who) {            \
          return Do##Method(who, *request, response);                        \
        });                                                                  \
  }                                                                          \
  absl::Status Do##Method(const ::haven::server::auth::Principal& who,       \
                          const haven::v1::Request& request,                 \
                          haven::v1::Response* response)

// HAVEN_ASYNC_UNARY_RPC: the same for a body that never waits (see
// RunAsyncUnary): `void Do<Method>(const auth::Principal&, const Req&,
// Resp*, FinishRpc finish)` fills the response, then calls finish once.
#define HAVEN_ASYNC_UNARY_RPC(Method, Request, Response, ...)                \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* call,        \
                                   const haven::v1::Request* request,        \
                                   haven::v1::Response* response) override { \
    return ::haven::server::services::RunAsyncUnary(                         \
        call, env_, {__VA_ARGS__},                                       \
        [this, request, response](                                           \
            const ::haven::server::auth::Principal& who,                     \
            ::haven::server::services::FinishRpc finish) {                   \
          Do##Method(who, *request, response, std::move(finish));            \
        });                                                                  \
  }                                                                          \
  void Do##Method(const ::haven::server::auth::Principal& who,               \
                  const haven::v1::Request& request,                         \
                  haven::v1::Response* response,                             \
                  ::haven::server::services::FinishRpc finish)

// HAVEN_OPEN_UNARY_RPC: the same as HAVEN_UNARY_RPC for an RPC that takes
// no token (RunOpenUnary); `who` is empty. Only AuthService's sign-in and
// enrolment use it.
#define HAVEN_OPEN_UNARY_RPC(Method, Request, Response)                      \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* call,        \
                                   const haven::v1::Request* request,        \
                                   haven::v1::Response* response) override { \
    return ::haven::server::services::RunOpenUnary(                          \
        call, env_,                                                          \
        [this, request,                                                      \
         response](const ::haven::server::auth::Principal& who) {            \
          return Do##Method(who, *request, response);                        \
        });                                                                  \
  }                                                                          \
  absl::Status Do##Method(const ::haven::server::auth::Principal& who,       \
                          const haven::v1::Request& request,                 \
                          haven::v1::Response* response)

#endif  // HAVEN_SERVER_SERVICES_RPC_MACROS_H_
