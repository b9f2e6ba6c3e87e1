#include "server/services/admin_service.h"

#include "absl/strings/str_cat.h"
#include "server/node/event_log.h"

namespace haven::server::services {

absl::Status AdminServiceImpl::DoGetStatus(const auth::Principal& who,
                                           const haven::v1::GetStatusRequest&,
                                           haven::v1::GetStatusResponse* out) {
  out->set_agency_id(context_.agency_id);
  out->set_version(context_.version);
  out->set_started_unix(absl::ToUnixSeconds(context_.started));
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DoReloadManifest(
    const auth::Principal& who, const haven::v1::ReloadManifestRequest&,
    haven::v1::ReloadManifestResponse* out) {
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
                                           haven::v1::RotateKeyResponse*) {
  return absl::UnimplementedError("key rotation is not available yet");
}

absl::Status AdminServiceImpl::DoRetireKey(const auth::Principal& who,
                                           const haven::v1::RetireKeyRequest&,
                                           haven::v1::RetireKeyResponse*) {
  return absl::UnimplementedError("key retirement is not available yet");
}

absl::Status AdminServiceImpl::DoExplainDecision(
    const auth::Principal& who, const haven::v1::ExplainDecisionRequest&,
    haven::v1::ExplainDecisionResponse*) {
  return absl::UnimplementedError("decision explanations are not available yet");
}

}  // namespace haven::server::services
