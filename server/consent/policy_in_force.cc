#include "server/consent/policy_in_force.h"

#include "absl/strings/str_cat.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "policy/loader.h"
#include "server/node/event_log.h"

namespace haven::server::consent {

absl::Status PolicyInForce::Bootstrap(const BootstrapOptions& options) {
  auto in_data_dir = [&options](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(s.message(), " (data dir ",
                                               options.data_dir, ")"));
  };
  auto stored_policy = deps_.store->Load();
  if (!stored_policy.ok()) return in_data_dir(stored_policy.status());
  if (stored_policy->has_value()) {
    const haven::v1::StoredPolicy& stored = **stored_policy;
    auto compiled = policy::CompiledPolicy::Compile(stored.policy());
    if (!compiled.ok()) return in_data_dir(compiled.status());
    if (stored.policy().agency_id() != deps_.agency_id ||
        (*compiled)->version() != stored.policy_version()) {
      return in_data_dir(absl::DataLossError(
          "the stored run-time policy is not this node's or does not match "
          "its recorded version"));
    }
    deps_.holder->Replace(
        *compiled, {absl::StrCat("loaded at run time by ", stored.loaded_by()),
                    stored.loaded_unix()});
    node::LogEvent("policy_in_force", {{"source", "run-time load"},
                                       {"version", stored.policy_version()}});
    if (!options.policy_file.empty()) {
      node::LogEvent("policy_file_not_applied",
                     {{"why",
                       "a policy loaded at run time is in force; "
                       "havenctl policy load replaces it"}});
    }
    return absl::OkStatus();
  }
  if (options.policy_file.empty()) return absl::OkStatus();
  HAVEN_ASSIGN_OR_RETURN(policy::LoadedPolicy loaded,
                         policy::LoadPolicyFile(options.policy_file));
  if (loaded.policy.agency_id() != deps_.agency_id) {
    return absl::FailedPreconditionError(absl::StrCat(
        options.policy_file_where, ": ", options.policy_file,
        " is the policy of '", loaded.policy.agency_id(), "', not of '",
        deps_.agency_id, "'"));
  }
  HAVEN_ASSIGN_OR_RETURN(auto compiled,
                         policy::CompiledPolicy::Compile(loaded.policy));
  deps_.holder->Replace(compiled,
                        {absl::StrCat("policy_file ", options.policy_file),
                         deps_.clock->NowUnix()});
  for (const auto& warning : loaded.warnings) {
    node::LogEvent("policy_warning", {{"warning", warning}});
  }
  return absl::OkStatus();
}

absl::StatusOr<PolicyInForce::Loaded> PolicyInForce::Load(
    const std::string& principal, const std::string& text,
    const std::string& format_name) {
  HAVEN_RETURN_IF_ERROR(
      CheckMaxBytes(format_name, "format", limits::kMaxPolicyFormatBytes));
  if (text.size() > limits::kMaxPolicyBytes) {
    return absl::InvalidArgumentError("policy must be at most 1 MiB");
  }
  policy::PolicyFormat format;
  if (format_name.empty() || format_name == "textproto") {
    format = policy::PolicyFormat::kTextProto;
  } else if (format_name == "json") {
    format = policy::PolicyFormat::kJson;
  } else {
    return absl::InvalidArgumentError(
        "format must be \"textproto\" or \"json\"");
  }
  // Validate and compile first: a bad policy changes nothing and logs
  // nothing; a good one is logged before it takes effect.
  HAVEN_ASSIGN_OR_RETURN(policy::LoadedPolicy loaded,
                         policy::LoadPolicy(text, format, "policy"));
  if (loaded.policy.agency_id() != deps_.agency_id) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy is for agency '", loaded.policy.agency_id(),
                     "', this node is '", deps_.agency_id, "'"));
  }
  HAVEN_ASSIGN_OR_RETURN(auto compiled,
                         policy::CompiledPolicy::Compile(loaded.policy));
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::POLICY_LOADED);
  entry.set_policy_version(compiled->version());
  entry.set_detail(absl::StrCat(loaded.policy.rules_size(), " rules"));
  audit::Action action;
  action.entries.push_back(
      deps_.audit->Stamped(std::move(entry), principal, ""));
  const int64_t loaded_unix =
      action.entries.back().time_unix_nanos() / 1'000'000'000;
  // The policy is stored with its entry, in one commit: a restart keeps it.
  haven::v1::StoredPolicy stored;
  *stored.mutable_policy() = loaded.policy;
  stored.set_policy_version(compiled->version());
  stored.set_loaded_by(principal);
  stored.set_loaded_unix(loaded_unix);
  deps_.store->Stage(stored, &action.state);
  absl::MutexLock lock(&load_mu_);
  HAVEN_ASSIGN_OR_RETURN(uint64_t index, deps_.audit->Commit(std::move(action)));
  deps_.holder->Replace(
      compiled,
      {absl::StrCat("loaded at run time by ", principal), loaded_unix});
  node::LogEvent("policy_loaded",
                 {{"by", principal}, {"version", compiled->version()}});
  return Loaded{index, compiled->version(), std::move(loaded.warnings)};
}

}  // namespace haven::server::consent
