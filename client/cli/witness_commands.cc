// havenctl audit witnessed: what this node has verified of its peers' logs.
// Run it against two nodes and compare what each saw of a third: the same
// origin must never show two different roots for one tree size, and a
// smaller tree must be a prefix of a larger one (checked by the nodes when
// they witness).
#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "client/cli/commands.h"
#include "client/cli/json.h"
#include "client/cli/rpc.h"
#include "haven/v1/audit.grpc.pb.h"

namespace haven::client::cli {
namespace {

using haven::v1::AuditService;

int Witnessed(const Invocation& in) {
  haven::v1::GetWitnessedRequest request;
  request.set_agency_id(in.args.GetOr("agency", ""));
  haven::v1::GetWitnessedResponse response;
  absl::Status s = CallUnary<AuditService>(
      in, &AuditService::Stub::GetWitnessed, request, &response);
  if (!s.ok()) return Report(s);
  for (const auto& w : response.witnessed()) {
    if (in.json) {
      JsonObject out;
      out.Add("agency_id", w.agency_id())
          .Add("origin", w.checkpoint().origin())
          .Add("tree_size", static_cast<uint64_t>(w.checkpoint().tree_size()))
          .Add("root_hash", absl::Base64Escape(w.checkpoint().root_hash()))
          .Add("verified_unix", static_cast<int64_t>(w.verified_unix()))
          .Add("checkpoint", w.checkpoint().note());
      std::puts(out.str().c_str());
    } else {
      std::printf("%-14s size %-8llu root %s  verified %s\n",
                  w.agency_id().c_str(),
                  static_cast<unsigned long long>(w.checkpoint().tree_size()),
                  absl::Base64Escape(w.checkpoint().root_hash()).c_str(),
                  absl::FormatTime("%Y-%m-%d %H:%M:%SZ",
                                   absl::FromUnixSeconds(w.verified_unix()),
                                   absl::UTCTimeZone())
                      .c_str());
    }
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> WitnessCommands() {
  return {{"audit",
           "witnessed",
           "peers' checkpoints this node verified (signature, consistency)",
           "havenctl audit witnessed [--agency ID]\n"
           "  Compare the output of two nodes for a third agency: one tree\n"
           "  size must never show two roots.",
           {"agency"},
           Witnessed}};
}

}  // namespace haven::client::cli
