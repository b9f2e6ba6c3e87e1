// NodeBridge: the console's one way to its node. Calls a unary method of
// the local API by name with a request in proto3 JSON and answers with the
// response in proto3 JSON (protobuf's JSON mapping over the generated
// descriptors), over the TLS channel of client/connection.h, with the
// signed-in person's session token as the bearer token.
//
// Only allowlisted methods can be called through /api/call (IsCallable);
// the node still checks the role of every call. Thread-safe.
#ifndef HAVEN_CLIENT_CONSOLE_NODE_BRIDGE_H_
#define HAVEN_CLIENT_CONSOLE_NODE_BRIDGE_H_

#include <chrono>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "client/connection.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/status.h"

namespace haven::client::console {

// What the node answered: `status` from the node (or a local
// INVALID_ARGUMENT for a body that is not the request message's JSON), and
// on OK the response message as proto3 JSON.
struct NodeAnswer {
  grpc::Status status;
  std::string json;
};

class NodeBridge {
 public:
  // `options.token` is ignored: each call carries its own.
  static absl::StatusOr<std::unique_ptr<NodeBridge>> Create(
      ConnectionOptions options);

  // True for "haven.v1.Service/Method" on the /api/call allowlist.
  static bool IsCallable(const std::string& service, const std::string& method);

  // Calls "<service>/<method>" (any unary method of the local API, allowed
  // or not: the caller decides) with `request_json`; `session_token` may be
  // empty for the calls that need none (sign-in, enrolment).
  NodeAnswer Call(const std::string& service, const std::string& method,
                  const std::string& request_json,
                  const std::string& session_token) const;

 private:
  NodeBridge(std::unique_ptr<Connection> connection)
      : connection_(std::move(connection)), stub_(connection_->channel()) {}

  const std::unique_ptr<Connection> connection_;
  mutable grpc::GenericStub stub_;
};

}  // namespace haven::client::console

#endif  // HAVEN_CLIENT_CONSOLE_NODE_BRIDGE_H_
