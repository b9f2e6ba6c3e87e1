#include "server/services/consent_service.h"

#include "haven/base/status_macros.h"
#include "server/audit/audit_recorder.h"
#include "server/consent/consent_registry.h"

namespace haven::server::services {
namespace {

using haven::v1::AuditEntry;

AuditEntry ConsentEntry(haven::v1::EntryKind kind,
                        const haven::v1::Consent& consent) {
  AuditEntry entry;
  entry.set_kind(kind);
  entry.add_consent_ids(consent.consent_id());
  for (int c : consent.categories()) {
    entry.add_asked(static_cast<haven::v1::Category>(c));
  }
  if (!consent.purposes().empty()) {
    entry.set_purpose(static_cast<haven::v1::Purpose>(consent.purposes(0)));
  }
  if (consent.grantee().has_agency_id()) {
    entry.set_detail("grantee agency " + consent.grantee().agency_id());
  } else {
    entry.set_detail("grantee sector " +
                     haven::v1::Sector_Name(consent.grantee().sector()));
  }
  return entry;
}

}  // namespace

absl::Status ConsentServiceImpl::LogChange(const auth::Principal& who,
                                           haven::v1::EntryKind kind,
                                           const std::string& consent_id,
                                           const std::string& reason) {
  HAVEN_ASSIGN_OR_RETURN(auto history, context_.consents->Get(consent_id));
  AuditEntry entry = ConsentEntry(kind, history.back());
  entry.set_justification(reason);
  return context_.audit->Record(entry, who.name, history.back().subject_id())
      .status();
}

absl::Status ConsentServiceImpl::DoRecordConsent(
    const auth::Principal& who, const haven::v1::RecordConsentRequest& request,
    haven::v1::RecordConsentResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      haven::v1::ConsentReceipt receipt,
      context_.consents->Record(request.consent(), who.name));
  const haven::v1::Consent& consent = receipt.consent();
  // The consent id exists only now, so the entry follows the write. If it
  // cannot be logged, the consent is revoked at once: an unlogged consent
  // must never be usable.
  auto logged =
      context_.audit->Record(ConsentEntry(haven::v1::CONSENT_RECORDED, consent),
                             who.name, consent.subject_id());
  if (!logged.ok()) {
    (void)context_.consents->Revoke(
        consent.consent_id(), "audit log unavailable when recorded", "havend");
    return logged.status();
  }
  if (context_.on_consent_recorded) context_.on_consent_recorded(consent);
  *response->mutable_receipt() = std::move(receipt);
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoAmendConsent(
    const auth::Principal& who, const haven::v1::AmendConsentRequest& request,
    haven::v1::AmendConsentResponse* response) {
  HAVEN_RETURN_IF_ERROR(
      LogChange(who, haven::v1::CONSENT_AMENDED, request.consent_id(), ""));
  HAVEN_ASSIGN_OR_RETURN(*response->mutable_receipt(),
                         context_.consents->Amend(request.consent_id(),
                                                  request.consent(), who.name));
  if (context_.on_consent_recorded) {
    context_.on_consent_recorded(response->receipt().consent());
  }
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoPauseConsent(
    const auth::Principal& who,
    const haven::v1::ChangeConsentStatusRequest& request,
    haven::v1::ChangeConsentStatusResponse* response) {
  if (request.reason().empty()) {
    return absl::InvalidArgumentError("reason is required to pause a consent");
  }
  HAVEN_RETURN_IF_ERROR(LogChange(who, haven::v1::CONSENT_PAUSED,
                                  request.consent_id(), request.reason()));
  HAVEN_ASSIGN_OR_RETURN(*response->mutable_receipt(),
                         context_.consents->Pause(request.consent_id(),
                                                  request.reason(), who.name));
  if (context_.on_consent_withdrawn) {
    context_.on_consent_withdrawn(response->receipt().consent(), "paused");
  }
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoResumeConsent(
    const auth::Principal& who,
    const haven::v1::ChangeConsentStatusRequest& request,
    haven::v1::ChangeConsentStatusResponse* response) {
  HAVEN_RETURN_IF_ERROR(LogChange(who, haven::v1::CONSENT_RESUMED,
                                  request.consent_id(), request.reason()));
  HAVEN_ASSIGN_OR_RETURN(
      *response->mutable_receipt(),
      context_.consents->Resume(request.consent_id(), who.name));
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoRevokeConsent(
    const auth::Principal& who,
    const haven::v1::ChangeConsentStatusRequest& request,
    haven::v1::ChangeConsentStatusResponse* response) {
  if (request.reason().empty()) {
    return absl::InvalidArgumentError("reason is required to revoke a consent");
  }
  HAVEN_RETURN_IF_ERROR(LogChange(who, haven::v1::CONSENT_REVOKED,
                                  request.consent_id(), request.reason()));
  HAVEN_ASSIGN_OR_RETURN(*response->mutable_receipt(),
                         context_.consents->Revoke(request.consent_id(),
                                                   request.reason(), who.name));
  if (context_.on_consent_withdrawn) {
    context_.on_consent_withdrawn(response->receipt().consent(), "revoked");
  }
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoRecordRefusal(
    const auth::Principal& who, const haven::v1::RecordRefusalRequest& request,
    haven::v1::RecordRefusalResponse* response) {
  if (request.subject_id().empty()) {
    return absl::InvalidArgumentError("subject_id is required");
  }
  AuditEntry entry;
  entry.set_kind(haven::v1::REFUSAL_RECORDED);
  HAVEN_RETURN_IF_ERROR(
      context_.audit->Record(entry, who.name, request.subject_id()).status());
  HAVEN_ASSIGN_OR_RETURN(
      *response->mutable_refusal(),
      context_.consents->RecordRefusal(request.subject_id(),
                                       request.evidence_sha256(), who.name));
  if (context_.on_refusal_recorded) {
    context_.on_refusal_recorded(request.subject_id());
  }
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoLiftRefusal(
    const auth::Principal& who, const haven::v1::LiftRefusalRequest& request,
    haven::v1::LiftRefusalResponse* response) {
  AuditEntry entry;
  entry.set_kind(haven::v1::REFUSAL_LIFTED);
  entry.set_detail("refusal " + request.refusal_id());
  HAVEN_RETURN_IF_ERROR(context_.audit->Record(entry, who.name, "").status());
  HAVEN_ASSIGN_OR_RETURN(
      *response->mutable_refusal(),
      context_.consents->LiftRefusal(request.refusal_id(), who.name));
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoGetConsent(
    const auth::Principal&, const haven::v1::GetConsentRequest& request,
    haven::v1::GetConsentResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(auto history,
                         context_.consents->Get(request.consent_id()));
  for (auto& version : history) *response->add_history() = std::move(version);
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoListConsents(
    const auth::Principal&, const haven::v1::ListConsentsRequest& request,
    haven::v1::ListConsentsResponse* response) {
  if (request.subject_id().empty()) {
    return absl::InvalidArgumentError("subject_id is required");
  }
  *response = context_.consents->List(request.subject_id());
  return absl::OkStatus();
}

}  // namespace haven::server::services
