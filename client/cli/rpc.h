// Helpers shared by havenctl's command groups: make a call with the
// connection's deadline and credentials, and print a response as JSON.
#ifndef HAVEN_CLIENT_CLI_RPC_H_
#define HAVEN_CLIENT_CLI_RPC_H_

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "client/cli/command.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/support/status.h"
#include "haven/base/grpc_status.h"

namespace haven::client::cli {

using ::haven::FromGrpcStatus;

// One line of JSON for `message` (proto3 JSON mapping, field names as in
// the .proto).
inline std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

// Calls `method` on a stub made from the invocation's connection:
//   CallUnary<Stub>(in, &Stub::Method, request, &response)
template <typename Service, typename Stub, typename Request, typename Response>
absl::Status CallUnary(const Invocation& in,
                       grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                    const Request&, Response*),
                       const Request& request, Response* response) {
  auto connection = in.connect();
  if (!connection.ok()) return connection.status();
  auto stub = Service::NewStub((*connection)->channel());
  auto context = (*connection)->NewContext();
  return FromGrpcStatus(((*stub).*method)(context.get(), request, response));
}

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_RPC_H_
