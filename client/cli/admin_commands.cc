// havenctl admin …: node operation (admin role).
#include <cstdio>

#include "absl/strings/numbers.h"
#include "client/cli/commands.h"
#include "client/cli/node_call.h"

namespace haven::client::cli {
namespace {

namespace v1 = ::haven::v1;

void PrintStatus(const v1::GetStatusResponse& status) {
  std::printf(
      "agency          %s\nversion         %s\npolicy version  %s\n"
      "audit entries   %llu\n",
      status.agency_id().c_str(), status.version().c_str(),
      status.policy_version().empty() ? "(none loaded)"
                                      : status.policy_version().c_str(),
      static_cast<unsigned long long>(status.audit_tree_size()));
}

void PrintManifest(const v1::ReloadManifestResponse& manifest) {
  std::printf("manifest serial %llu, %u members\n",
              static_cast<unsigned long long>(manifest.serial()),
              manifest.members());
}

void PrintRotation(const v1::RotateKeyResponse& rotation) {
  std::printf(
      "key-encryption key version %u is active; %llu data keys re-wrapped\n",
      rotation.new_kek_version(),
      static_cast<unsigned long long>(rotation.data_keys_rewrapped()));
}

int Status(const Invocation& in) {
  return CallAndPrint(in, &NodeClient::GetStatus, v1::GetStatusRequest(),
                      PrintStatus);
}

int ReloadManifest(const Invocation& in) {
  return CallAndPrint(in, &NodeClient::ReloadManifest,
                      v1::ReloadManifestRequest(), PrintManifest);
}

int RotateKey(const Invocation& in) {
  return CallAndPrint(in, &NodeClient::RotateKey, v1::RotateKeyRequest(),
                      PrintRotation);
}

int RetireKey(const Invocation& in) {
  uint32_t version = 0;
  if (!absl::SimpleAtoi(in.args.GetOr("version", ""), &version) ||
      version == 0) {
    std::fprintf(stderr, "havenctl: --version N is required\n");
    return kExitUsage;
  }
  v1::RetireKeyRequest request;
  request.set_kek_version(version);
  // The response is empty: --json prints {} as it always has.
  return CallAndPrint(in, &NodeClient::RetireKey, request,
                      [version](const v1::RetireKeyResponse&) {
                        std::printf("key-encryption key version %u retired\n",
                                    version);
                      });
}

}  // namespace

std::vector<Command> AdminCommands() {
  return {
      {"admin",
       "status",
       "show the node's agency, version and log size",
       "havenctl admin status",
       {},
       Status},
      {"admin",
       "reload-manifest",
       "re-read the federation manifest now",
       "havenctl admin reload-manifest\n"
       "  A suspended member is refused from the next call on.",
       {},
       ReloadManifest},
      {"admin",
       "rotate-key",
       "make a new key-encryption key, re-wrap all data keys",
       "havenctl admin rotate-key",
       {},
       RotateKey},
      {"admin",
       "retire-key",
       "retire an old key-encryption key version",
       "havenctl admin retire-key --version N",
       {"version"},
       RetireKey},
  };
}

}  // namespace haven::client::cli
