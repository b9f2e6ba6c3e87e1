// havenctl admin …: node operation (admin role).
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "client/cli/commands.h"
#include "client/cli/rpc.h"
#include "haven/v1/admin.grpc.pb.h"

namespace haven::client::cli {
namespace {

using haven::v1::AdminService;

int Status(const Invocation& in) {
  haven::v1::GetStatusResponse response;
  absl::Status s =
      CallUnary<AdminService>(in, &AdminService::Stub::GetStatus,
                              haven::v1::GetStatusRequest(), &response);
  if (!s.ok()) return Report(s);
  if (in.json) {
    std::puts(ToJson(response).c_str());
  } else {
    std::printf(
        "agency          %s\nversion         %s\npolicy version  %s\n"
        "audit entries   %llu\n",
        response.agency_id().c_str(), response.version().c_str(),
        response.policy_version().empty() ? "(none loaded)"
                                          : response.policy_version().c_str(),
        static_cast<unsigned long long>(response.audit_tree_size()));
  }
  return kExitOk;
}

int ReloadManifest(const Invocation& in) {
  haven::v1::ReloadManifestResponse response;
  absl::Status s =
      CallUnary<AdminService>(in, &AdminService::Stub::ReloadManifest,
                              haven::v1::ReloadManifestRequest(), &response);
  if (!s.ok()) return Report(s);
  if (in.json) {
    std::puts(ToJson(response).c_str());
  } else {
    std::printf("manifest serial %llu, %u members\n",
                static_cast<unsigned long long>(response.serial()),
                response.members());
  }
  return kExitOk;
}

int RotateKey(const Invocation& in) {
  haven::v1::RotateKeyResponse response;
  absl::Status s =
      CallUnary<AdminService>(in, &AdminService::Stub::RotateKey,
                              haven::v1::RotateKeyRequest(), &response);
  if (!s.ok()) return Report(s);
  if (in.json) {
    std::puts(ToJson(response).c_str());
  } else {
    std::printf(
        "key-encryption key version %u is active; %llu data keys "
        "re-wrapped\n",
        response.new_kek_version(),
        static_cast<unsigned long long>(response.data_keys_rewrapped()));
  }
  return kExitOk;
}

int RetireKey(const Invocation& in) {
  uint32_t version = 0;
  if (!absl::SimpleAtoi(in.args.GetOr("version", ""), &version) ||
      version == 0) {
    std::fprintf(stderr, "havenctl: --version N is required\n");
    return kExitUsage;
  }
  haven::v1::RetireKeyRequest request;
  request.set_kek_version(version);
  haven::v1::RetireKeyResponse response;
  absl::Status s = CallUnary<AdminService>(in, &AdminService::Stub::RetireKey,
                                           request, &response);
  if (!s.ok()) return Report(s);
  if (!in.json) std::printf("key-encryption key version %u retired\n", version);
  if (in.json) std::puts("{}");
  return kExitOk;
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
