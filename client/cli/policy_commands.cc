// havenctl policy …: check a sharing policy offline, load it into the node,
// show it, and explain what it would decide.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/cli/commands.h"
#include "client/cli/decision_output.h"
#include "client/cli/json.h"
#include "client/cli/node_call.h"
#include "google/protobuf/text_format.h"
#include "policy/loader.h"

namespace haven::client::cli {
namespace {

// The one positional argument after "policy <verb>".
int FileArgument(const Invocation& in, std::string* path) {
  const auto& words = in.args.positional();
  if (words.size() != 3 || words[2].empty()) {
    return UsageError(absl::StrCat("usage: havenctl policy ",
                                   words.size() > 1 ? words[1] : "check",
                                   " FILE"));
  }
  *path = words[2];
  return kExitOk;
}

int Check(const Invocation& in) {
  std::string path;
  if (int rc = FileArgument(in, &path)) return rc;
  absl::StatusOr<policy::LoadedPolicy> loaded = policy::LoadPolicyFile(path);
  if (!loaded.ok()) {
    std::string message(loaded.status().message());
    // Parse errors already start with the file name; others get it here.
    if (!absl::StartsWith(message, path)) message = path + ": " + message;
    std::fprintf(stderr, "havenctl: %s\n", message.c_str());
    return kExitUsage;
  }
  if (in.json) {
    std::vector<std::string> warnings(loaded->warnings.begin(),
                                      loaded->warnings.end());
    std::puts(JsonObject()
                  .Add("file", path)
                  .Add("ok", true)
                  .Add("agency_id", loaded->policy.agency_id())
                  .Add("policy_version", loaded->version)
                  .Add("rules", loaded->policy.rules_size())
                  .Add("warnings", warnings)
                  .str()
                  .c_str());
    return kExitOk;
  }
  std::printf("%s: ok, version %s, %d rules\n", path.c_str(),
              loaded->version.c_str(), loaded->policy.rules_size());
  for (const std::string& warning : loaded->warnings) {
    std::printf("warning: %s\n", warning.c_str());
  }
  return kExitOk;
}

int Load(const Invocation& in) {
  std::string path;
  if (int rc = FileArgument(in, &path)) return rc;
  std::ifstream file(path, std::ios::binary);
  if (!file) return UsageError(absl::StrCat("cannot read ", path));
  std::ostringstream content;
  content << file.rdbuf();
  haven::v1::LoadPolicyRequest request;
  request.set_policy_text(content.str());
  request.set_format(policy::FormatForPath(path) == policy::PolicyFormat::kJson
                         ? "json"
                         : "textproto");
  return CallAndPrint(
      in, &NodeClient::LoadPolicy, request,
      [](const haven::v1::LoadPolicyResponse& response) {
        std::printf(
            "policy loaded, version %s (audit entry %llu); it stays in force "
            "across restarts until the next load\n",
            response.policy_version().c_str(),
            static_cast<unsigned long long>(response.audit_index()));
        for (const std::string& warning : response.warnings()) {
          std::printf("warning: %s\n", warning.c_str());
        }
      });
}

void PrintPolicy(const haven::v1::GetPolicyResponse& response) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(response.policy(), &text);
  std::printf(
      "# policy version %s\n# in force since %s, %s\n%s",
      response.policy_version().c_str(),
      absl::FormatTime("%Y-%m-%d %H:%M:%SZ",
                       absl::FromUnixSeconds(response.in_force_since_unix()),
                       absl::UTCTimeZone())
          .c_str(),
      response.source().c_str(), text.c_str());
}

int Show(const Invocation& in) {
  return CallAndPrint(in, &NodeClient::GetPolicy, haven::v1::GetPolicyRequest(),
                      PrintPolicy);
}

int Explain(const Invocation& in) {
  haven::v1::ExplainDecisionRequest request;
  if (int rc =
          ReadAsk(in.args, {"subject", "requester", "purpose"}, &request)) {
    return rc;
  }
  request.set_subject_id(in.args.GetOr("subject", ""));
  request.set_requester_agency_id(in.args.GetOr("requester", ""));
  return CallAndPrint(in, &NodeClient::ExplainDecision, request,
                      [](const haven::v1::ExplainDecisionResponse& response) {
                        PrintDecision(response.decision());
                      });
}

}  // namespace

std::vector<Command> PolicyCommands() {
  return {
      {"policy",
       "check",
       "validate a policy file offline (no node needed)",
       "havenctl policy check FILE\n"
       "  FILE is text format, or JSON when it ends in .json. Errors read\n"
       "  file:line:col: rule 'x': field: message. Exit 2 if invalid.",
       {},
       Check},
      {"policy",
       "load",
       "load a policy file into the node (admin)",
       "havenctl policy load FILE\n"
       "  FILE is text format, or JSON when it ends in .json.",
       {},
       Load},
      {"policy",
       "show",
       "print the node's current policy (admin, auditor)",
       "havenctl policy show",
       {},
       Show},
      {"policy",
       "explain",
       "dry-run a decision: what would be shared, and why (admin, advocate)",
       "havenctl policy explain --subject ID --requester AGENCY --purpose P "
       "--category C [--category C] [--justification TEXT]\n"
       "  Nothing is disclosed and no consent use is counted.",
       {"subject", "requester", "purpose", "category", "justification"},
       Explain},
  };
}

}  // namespace haven::client::cli
