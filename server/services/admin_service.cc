#include "server/services/admin_service.h"

#include "absl/strings/str_cat.h"
#include "haven/base/status_macros.h"
#include "server/node/event_log.h"
#include "server/audit/audit_recorder.h"
#include "server/vault/record_vault.h"

namespace haven::server::services {

absl::Status AdminServiceImpl::DoGetStatus(const auth::Principal& who,
                                           const haven::v1::GetStatusRequest&,
                                           haven::v1::GetStatusResponse* out) {
  out->set_agency_id(context_.agency_id);
  out->set_version(context_.version);
  out->set_started_unix(absl::ToUnixSeconds(context_.started));
  out->set_audit_tree_size(context_.audit->log()->Size());
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DoReloadManifest(
    const auth::Principal& who, const haven::v1::ReloadManifestRequest&,
    haven::v1::ReloadManifestResponse* out) {
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::MEMBER_CHANGED);
  entry.set_detail("manifest reload");
  HAVEN_RETURN_IF_ERROR(context_.audit->Record(entry, who.name, "").status());
  auto manifest = context_.federation->Reload();
  if (!manifest.ok()) return manifest.status();
  out->set_serial((*manifest)->proto().serial());
  out->set_members((*manifest)->proto().members_size());
  node::LogEvent("manifest_reloaded",
                 {{"by", who.name},
                  {"serial", absl::StrCat((*manifest)->proto().serial())},
                  {"members", absl::StrCat(out->members())}});
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DoLoadPolicy(const auth::Principal& who,
                                            const haven::v1::LoadPolicyRequest&,
                                            haven::v1::LoadPolicyResponse*) {
  return absl::UnimplementedError("policy loading is not available yet");
}

absl::Status AdminServiceImpl::DoGetPolicy(const auth::Principal& who,
                                           const haven::v1::GetPolicyRequest&,
                                           haven::v1::GetPolicyResponse*) {
  return absl::UnimplementedError("policy is not available yet");
}

absl::Status AdminServiceImpl::DoRotateKey(const auth::Principal& who,
                                           const haven::v1::RotateKeyRequest&,
                                           haven::v1::RotateKeyResponse* out) {
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::KEY_ROTATED);
  entry.set_detail(absl::StrCat("rotate from kek v",
                                context_.vault->kek_status().active_version));
  HAVEN_RETURN_IF_ERROR(context_.audit->Record(entry, who.name, "").status());
  HAVEN_ASSIGN_OR_RETURN(uint64_t rewrapped, context_.vault->RotateKek());
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
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::KEY_ROTATED);
  entry.set_detail(absl::StrCat("retire kek v", request.kek_version()));
  HAVEN_RETURN_IF_ERROR(context_.audit->Record(entry, who.name, "").status());
  HAVEN_RETURN_IF_ERROR(context_.vault->RetireKek(request.kek_version()));
  node::LogEvent("kek_retired", {{"by", who.name},
                                 {"version", absl::StrCat(request.kek_version())}});
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DoExplainDecision(
    const auth::Principal& who, const haven::v1::ExplainDecisionRequest&,
    haven::v1::ExplainDecisionResponse*) {
  return absl::UnimplementedError("decision explanations are not available yet");
}

}  // namespace haven::server::services
