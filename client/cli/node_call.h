// How a havenctl command calls its node and prints the answer: the
// invocation's NodeClient, the call, and the response as one line of JSON
// (--json) or as text. Keeps each command to "parse flags, call, print".
#ifndef HAVEN_CLIENT_CLI_NODE_CALL_H_
#define HAVEN_CLIENT_CLI_NODE_CALL_H_

#include <cstdio>
#include <initializer_list>
#include <string>
#include <type_traits>

#include "absl/status/statusor.h"
#include "client/cli/command.h"
#include "client/cli/decision_output.h"
#include "client/node_client.h"
#include "google/protobuf/message.h"

namespace haven::client::cli {

// One line of JSON for `message` (proto3 JSON mapping, field names as in
// the .proto).
std::string ToJson(const google::protobuf::Message& message);

// Sets the string field named `field` of `message`; a name that is not a
// string field of it is a bug in havenctl and aborts.
void SetStringField(const std::string& field, const std::string& value,
                    google::protobuf::Message* message);

// Calls `method` with `request` on the invocation's node client:
//   CallNode(in, &NodeClient::GetStatus, v1::GetStatusRequest())
// The status of building the client (bad --ca, --token-file) if that fails.
template <typename Request, typename Response>
absl::StatusOr<Response> CallNode(
    const Invocation& in,
    absl::StatusOr<Response> (NodeClient::*method)(const Request&) const,
    const Request& request) {
  absl::StatusOr<const NodeClient*> client = in.client();
  if (!client.ok()) return client.status();
  return ((**client).*method)(request);
}

// Reports a failed call; else prints `response` as JSON with --json, or
// with `print_text` for people. Returns the exit code.
template <typename Response, typename PrintText>
int PrintResponse(const Invocation& in,
                  const absl::StatusOr<Response>& response,
                  PrintText print_text) {
  if (!response.ok()) return Report(response.status());
  if (in.json) {
    std::puts(ToJson(*response).c_str());
  } else {
    print_text(*response);
  }
  return kExitOk;
}

// The part of a response that `pick` returns (e.g. the receipt of a consent
// call), or the response's error.
template <typename Response, typename Pick>
auto PartOf(const absl::StatusOr<Response>& response, Pick pick)
    -> absl::StatusOr<std::decay_t<decltype(pick(*response))>> {
  if (!response.ok()) return response.status();
  return pick(*response);
}

// CallNode, then PrintResponse.
template <typename Request, typename Response, typename PrintText>
int CallAndPrint(const Invocation& in,
                 absl::StatusOr<Response> (NodeClient::*method)(const Request&)
                     const,
                 const Request& request, PrintText print_text) {
  return PrintResponse(in, CallNode(in, method, request), print_text);
}

// A request field filled from a required flag: {"subject", "subject_id"}.
struct FlagField {
  const char* flag;
  const char* field;  // a string field of the request, by its .proto name
};

// "Require flags, build request, call, print" for the calls whose request
// is only string flags: every flag in `fields` must have a value (else a
// usage error), and fills its field.
template <typename Request, typename Response, typename PrintText>
int CallWithFlags(const Invocation& in,
                  absl::StatusOr<Response> (NodeClient::*method)(const Request&)
                      const,
                  std::initializer_list<FlagField> fields,
                  PrintText print_text) {
  Request request;
  for (const FlagField& f : fields) {
    if (int rc = RequireFlags(in.args, {f.flag})) return rc;
    SetStringField(f.field, in.args.GetOr(f.flag, ""), &request);
  }
  return CallAndPrint(in, method, request, print_text);
}

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_NODE_CALL_H_
