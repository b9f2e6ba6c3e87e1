// havenctl health: ask a node's standard gRPC health service.
#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/json.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace haven::client::cli {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

int RunHealth(const Invocation& in) {
  auto connection = in.connect();
  if (!connection.ok()) return Report(connection.status());
  auto stub = grpc::health::v1::Health::NewStub((*connection)->channel());
  HealthCheckRequest request;
  request.set_service(in.args.GetOr("service", ""));
  HealthCheckResponse response;
  auto context = (*connection)->NewContext();
  grpc::Status status = stub->Check(context.get(), request, &response);
  const std::string& node = (*connection)->options().address;
  std::string state =
      status.ok() ? HealthCheckResponse::ServingStatus_Name(response.status())
                  : "UNREACHABLE";
  if (in.json) {
    JsonObject out;
    out.Add("node", node).Add("status", state);
    if (!status.ok()) out.Add("error", status.error_message());
    std::puts(out.str().c_str());
  } else {
    std::printf("%-24s %s\n", node.c_str(), state.c_str());
    if (!status.ok()) {
      std::fprintf(stderr, "havenctl: %s\n", status.error_message().c_str());
    }
  }
  if (!status.ok()) return kExitUnavailable;
  return response.status() == HealthCheckResponse::SERVING ? kExitOk
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
