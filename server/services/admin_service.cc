#include "server/services/admin_service.h"

#include "absl/strings/str_cat.h"
#include "haven/base/clock.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "policy/evaluator.h"
#include "policy/policy_holder.h"
#include "server/audit/audit_recorder.h"
#include "server/consent/consent_registry.h"

namespace haven::server::services {

absl::Status AdminServiceImpl::DoGetStatus(const auth::Principal& who,
                                           const haven::v1::GetStatusRequest&,
                                           haven::v1::GetStatusResponse* out) {
  out->set_agency_id(deps_.agency_id);
  out->set_version(deps_.version);
  out->set_started_unix(absl::ToUnixSeconds(deps_.started));
  out->set_audit_tree_size(deps_.audit->log()->Size());
  *out->mutable_peer_serving() = deps_.rollback->State();
  auto manifest = deps_.federation->current();
  out->set_manifest_serial(manifest->serial());
  out->set_manifest_sha256(manifest->note_sha256());
  if (auto current = deps_.policy->Get()) {
    out->set_policy_version(current->version());
  }
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DoReloadManifest(
    const auth::Principal& who, const haven::v1::ReloadManifestRequest&,
    haven::v1::ReloadManifestResponse* out) {
  HAVEN_ASSIGN_OR_RETURN(auto manifest, deps_.manifests->ReloadFile(who.name));
  out->set_serial(manifest->serial());
  out->set_members(manifest->proto().members_size());
  out->set_sha256(manifest->note_sha256());
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DoReloadCertificate(
    const auth::Principal& who, const haven::v1::ReloadCertificateRequest&,
    haven::v1::ReloadCertificateResponse* out) {
  if (deps_.certificate == nullptr) {
    return absl::FailedPreconditionError(
        "this node has no certificate to reload");
  }
  HAVEN_ASSIGN_OR_RETURN(federation::NodeCertificate::Reloaded reloaded,
                         deps_.certificate->Reload(who.name));
  out->set_cert_sha256(reloaded.cert_sha256);
  out->set_changed(reloaded.changed);
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DoLoadPolicy(
    const auth::Principal& who, const haven::v1::LoadPolicyRequest& request,
    haven::v1::LoadPolicyResponse* out) {
  HAVEN_ASSIGN_OR_RETURN(
      consent::PolicyInForce::Loaded loaded,
      deps_.policy_in_force->Load(who.name, request.policy_text(),
                                  request.format()));
  out->set_audit_index(loaded.audit_index);
  out->set_policy_version(loaded.version);
  for (const auto& warning : loaded.warnings) out->add_warnings(warning);
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DoGetPolicy(const auth::Principal& who,
                                           const haven::v1::GetPolicyRequest&,
                                           haven::v1::GetPolicyResponse* out) {
  auto [current, origin] = deps_.policy->GetWithOrigin();
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

absl::Status AdminServiceImpl::DoRotateKey(const auth::Principal& who,
                                           const haven::v1::RotateKeyRequest&,
                                           haven::v1::RotateKeyResponse* out) {
  HAVEN_ASSIGN_OR_RETURN(vault::RecordDesk::Rotated rotated,
                         deps_.desk->RotateKek(who.name));
  out->set_new_kek_version(rotated.active_version);
  out->set_data_keys_rewrapped(rotated.rewrapped);
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DoRetireKey(
    const auth::Principal& who, const haven::v1::RetireKeyRequest& request,
    haven::v1::RetireKeyResponse*) {
  return deps_.desk->RetireKek(who.name, request.kek_version());
}

absl::Status AdminServiceImpl::DoRotateSigningKey(
    const auth::Principal& who, const haven::v1::RotateSigningKeyRequest&,
    haven::v1::RotateSigningKeyResponse* out) {
  HAVEN_ASSIGN_OR_RETURN(audit::SigningKeyStore::Rotated rotated,
                         deps_.signing_keys->Rotate(*deps_.audit, who.name));
  out->set_old_verifier_key(std::move(rotated.old_verifier_key));
  out->set_new_verifier_key(std::move(rotated.new_verifier_key));
  out->set_audit_index(rotated.audit_index);
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
  auto current = deps_.policy->Get();
  if (current == nullptr) {
    return absl::FailedPreconditionError(
        "no sharing policy is loaded; nothing is shared");
  }
  if (request.categories().empty()) {
    return absl::InvalidArgumentError("categories are required");
  }
  auto manifest = deps_.federation->current();
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
      evaluator.Evaluate(*current,
                         *deps_.consents->Snapshot(request.subject_id()), ask));
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DoBackup(const auth::Principal& who,
                                        const haven::v1::BackupRequest& request,
                                        haven::v1::BackupResponse* out) {
  HAVEN_ASSIGN_OR_RETURN(*out,
                         deps_.backups->Backup(who.name, request.to_dir()));
  return absl::OkStatus();
}

absl::Status AdminServiceImpl::DoAcknowledgeRollback(
    const auth::Principal& who,
    const haven::v1::AcknowledgeRollbackRequest& request,
    haven::v1::AcknowledgeRollbackResponse* out) {
  HAVEN_ASSIGN_OR_RETURN(
      uint64_t index, deps_.rollback->Acknowledge(who.name, request.reason()));
  out->set_audit_index(index);
  return absl::OkStatus();
}

}  // namespace haven::server::services
