#include "server/services/admin_service.h"

#include "absl/strings/str_cat.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "haven/base/clock.h"
#include "policy/evaluator.h"
#include "policy/loader.h"
#include "policy/policy_holder.h"
#include "server/audit/audit_recorder.h"
#include "server/consent/consent_registry.h"
#include "server/consent/policy_store.h"
#include "server/node/event_log.h"
#include "server/vault/record_vault.h"

namespace haven::server::services {

absl::Status AdminServiceImpl::DoGetStatus(const auth::Principal& who,
                                           const haven::v1::GetStatusRequest&,
                                           haven::v1::GetStatusResponse* out) {
  out->set_agency_id(context_.agency_id);
  out->set_version(context_.version);
  out->set_started_unix(absl::ToUnixSeconds(context_.started));
  out->set_audit_tree_size(context_.audit->log()->Size());
  if (auto current = context_.policy->Get()) {
    out->set_policy_version(current->version());
  }
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DoReloadManifest(
    const auth::Principal& who, const haven::v1::ReloadManifestRequest&,
    haven::v1::ReloadManifestResponse* out) {
  // Read and check first: a manifest that does not load changes nothing
  // and logs nothing. One that does is logged before it takes effect.
  HAVEN_ASSIGN_OR_RETURN(auto manifest, context_.federation->Load());
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::MEMBER_CHANGED);
  entry.set_detail(absl::StrCat("manifest serial ", manifest->proto().serial(),
                                ", ", manifest->proto().members_size(),
                                " members"));
  HAVEN_RETURN_IF_ERROR(context_.audit->Record(entry, who.name, "").status());
  context_.federation->Install(manifest);
  out->set_serial(manifest->proto().serial());
  out->set_members(manifest->proto().members_size());
  node::LogEvent("manifest_reloaded",
                 {{"by", who.name},
                  {"serial", absl::StrCat(manifest->proto().serial())},
                  {"members", absl::StrCat(out->members())}});
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DoLoadPolicy(
    const auth::Principal& who, const haven::v1::LoadPolicyRequest& request,
    haven::v1::LoadPolicyResponse* out) {
  HAVEN_RETURN_IF_ERROR(
      CheckMaxBytes(request.format(), "format", limits::kMaxPolicyFormatBytes));
  if (request.policy_text().size() > limits::kMaxPolicyBytes) {
    return absl::InvalidArgumentError("policy must be at most 1 MiB");
  }
  policy::PolicyFormat format;
  if (request.format().empty() || request.format() == "textproto") {
    format = policy::PolicyFormat::kTextProto;
  } else if (request.format() == "json") {
    format = policy::PolicyFormat::kJson;
  } else {
    return absl::InvalidArgumentError(
        "format must be \"textproto\" or \"json\"");
  }
  // Validate and compile first: a bad policy changes nothing and logs
  // nothing; a good one is logged before it takes effect.
  HAVEN_ASSIGN_OR_RETURN(
      policy::LoadedPolicy loaded,
      policy::LoadPolicy(request.policy_text(), format, "policy"));
  if (loaded.policy.agency_id() != context_.agency_id) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy is for agency '", loaded.policy.agency_id(),
                     "', this node is '", context_.agency_id, "'"));
  }
  HAVEN_ASSIGN_OR_RETURN(auto compiled,
                         policy::CompiledPolicy::Compile(loaded.policy));
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::POLICY_LOADED);
  entry.set_policy_version(compiled->version());
  entry.set_detail(absl::StrCat(loaded.policy.rules_size(), " rules"));
  audit::Action action;
  action.entries.push_back(
      context_.audit->Stamped(std::move(entry), who.name, ""));
  const int64_t loaded_unix =
      action.entries.back().time_unix_nanos() / 1'000'000'000;
  // The policy is stored with its entry, in one commit: a restart keeps it.
  haven::v1::StoredPolicy stored;
  *stored.mutable_policy() = loaded.policy;
  stored.set_policy_version(compiled->version());
  stored.set_loaded_by(who.name);
  stored.set_loaded_unix(loaded_unix);
  context_.policy_store->Stage(stored, &action.state);
  // Loads are serialized so that the policy in force is always the one
  // whose commit came last.
  absl::MutexLock lock(&policy_load_mu_);
  HAVEN_ASSIGN_OR_RETURN(uint64_t index,
                         context_.audit->Commit(std::move(action)));
  context_.policy->Replace(
      compiled,
      {absl::StrCat("loaded at run time by ", who.name), loaded_unix});
  out->set_audit_index(index);
  out->set_policy_version(compiled->version());
  for (const auto& warning : loaded.warnings) out->add_warnings(warning);
  node::LogEvent("policy_loaded",
                 {{"by", who.name}, {"version", compiled->version()}});
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DoGetPolicy(const auth::Principal& who,
                                           const haven::v1::GetPolicyRequest&,
                                           haven::v1::GetPolicyResponse* out) {
  auto [current, origin] = context_.policy->GetWithOrigin();
  if (current == nullptr) {
    return absl::FailedPreconditionError(
        "no sharing policy is loaded; nothing is shared");
  }
  *out->mutable_policy() = current->policy();
  out->set_policy_version(current->version());
  out->set_source(origin.source);
  out->set_in_force_since_unix(origin.since_unix);
  return absl::OkStatus();
}

// Commits a key change with its KEY_ROTATED entry.
absl::Status AdminServiceImpl::CommitKeyChange(const auth::Principal& who,
                                               std::string detail,
                                               storage::WriteBatch state) {
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::KEY_ROTATED);
  entry.set_detail(std::move(detail));
  audit::Action action;
  action.entries.push_back(
      context_.audit->Stamped(std::move(entry), who.name, ""));
  action.state = std::move(state);
  return context_.audit->Commit(std::move(action)).status();
}

absl::Status AdminServiceImpl::DoRotateKey(const auth::Principal& who,
                                           const haven::v1::RotateKeyRequest&,
                                           haven::v1::RotateKeyResponse* out) {
  const uint32_t from = context_.vault->kek_status().active_version;
  HAVEN_ASSIGN_OR_RETURN(
      uint64_t rewrapped,
      context_.vault->RotateKek([&](storage::WriteBatch state, uint32_t to) {
        return CommitKeyChange(who,
                               absl::StrCat("rotate kek v", from, " -> v", to),
                               std::move(state));
      }));
  out->set_new_kek_version(context_.vault->kek_status().active_version);
  out->set_data_keys_rewrapped(rewrapped);
  node::LogEvent("kek_rotated",
                 {{"by", who.name},
                  {"active", absl::StrCat(out->new_kek_version())},
                  {"rewrapped", absl::StrCat(rewrapped)}});
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DoRetireKey(
    const auth::Principal& who, const haven::v1::RetireKeyRequest& request,
    haven::v1::RetireKeyResponse*) {
  HAVEN_RETURN_IF_ERROR(context_.vault->RetireKek(
      request.kek_version(), [&](storage::WriteBatch state) {
        return CommitKeyChange(
            who, absl::StrCat("retire kek v", request.kek_version()),
            std::move(state));
      }));
  node::LogEvent(
      "kek_retired",
      {{"by", who.name}, {"version", absl::StrCat(request.kek_version())}});
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DoExplainDecision(
    const auth::Principal& who,
    const haven::v1::ExplainDecisionRequest& request,
    haven::v1::ExplainDecisionResponse* out) {
  HAVEN_RETURN_IF_ERROR(
      CheckNodeId(request.subject_id(), "subject_id", /*required=*/true));
  HAVEN_RETURN_IF_ERROR(CheckMaxBytes(request.requester_agency_id(),
                                      "requester_agency_id",
                                      limits::kMaxAgencyIdBytes));
  HAVEN_RETURN_IF_ERROR(CheckPlainText(request.justification(), "justification",
                                       limits::kMaxJustificationBytes,
                                       /*required=*/false));
  auto current = context_.policy->Get();
  if (current == nullptr) {
    return absl::FailedPreconditionError(
        "no sharing policy is loaded; nothing is shared");
  }
  if (request.categories().empty()) {
    return absl::InvalidArgumentError("categories are required");
  }
  auto manifest = context_.federation->current();
  const haven::v1::Member* requester =
      manifest->Find(request.requester_agency_id());
  if (requester == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("agency '", request.requester_agency_id(),
                     "' is not in the federation manifest"));
  }
  std::vector<int> categories(request.categories().begin(),
                              request.categories().end());
  policy::Request ask;
  ask.requester_agency = requester->agency_id();
  ask.requester_sector = requester->sector();
  ask.purpose = request.purpose();
  ask.categories = categories;
  ask.justification = request.justification();
  // A dry run: nothing is disclosed and no consent use is counted.
  policy::Evaluator evaluator(SystemClock::Get());
  HAVEN_ASSIGN_OR_RETURN(
      *out->mutable_decision(),
      evaluator.Evaluate(
          *current, *context_.consents->Snapshot(request.subject_id()), ask));
  return absl::OkStatus();
}

}  // namespace haven::server::services
