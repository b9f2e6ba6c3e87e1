// havenctl health: ask a node's standard gRPC health service.
#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/json.h"
#include "client/node_client.h"

namespace haven::client::cli {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

int RunHealth(const Invocation& in) {
  auto client = in.client();
  if (!client.ok()) return Report(client.status());
  HealthCheckRequest request;
  request.set_service(in.args.GetOr("service", ""));
  absl::StatusOr<HealthCheckResponse> response =
      (*client)->CheckHealth(request);
  const absl::Status& status = response.status();
  const std::string& node = (*client)->options().address;
  std::string state =
      status.ok() ? HealthCheckResponse::ServingStatus_Name(response->status())
                  : "UNREACHABLE";
  if (in.json) {
    JsonObject out;
    out.Add("node", node).Add("status", state);
    if (!status.ok()) out.Add("error", status.message());
    std::puts(out.str().c_str());
  } else {
    std::printf("%-24s %s\n", node.c_str(), state.c_str());
    if (!status.ok()) {
      std::fprintf(stderr, "havenctl: %s\n",
                   std::string(status.message()).c_str());
    }
  }
  if (!status.ok()) return kExitUnavailable;
  return response->status() == HealthCheckResponse::SERVING ? kExitOk
                                                            : kExitUnavailable;
}

}  // namespace

std::vector<Command> HealthCommands() {
  return {{"health",
           "",
           "check that a node is up and serving",
           "havenctl health [--service NAME]\n"
           "  Exit 0 if SERVING, 3 if not serving or unreachable.",
           {"service"},
           RunHealth}};
}

}  // namespace haven::client::cli
