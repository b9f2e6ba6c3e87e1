#include "server/services/consent_service.h"

#include "haven/base/status_macros.h"
#include "server/consent/consent_registry.h"

namespace haven::server::services {

// Each change is validated, committed with its audit entry and announced
// to peers by the registry itself; these are adapters from RPCs to it.

absl::Status ConsentServiceImpl::DoRecordConsent(
    const auth::Principal& who, const haven::v1::RecordConsentRequest& request,
    haven::v1::RecordConsentResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      *response->mutable_receipt(),
      context_.consents->Record(request.consent(), who.name));
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoAmendConsent(
    const auth::Principal& who, const haven::v1::AmendConsentRequest& request,
    haven::v1::AmendConsentResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(*response->mutable_receipt(),
                         context_.consents->Amend(request.consent_id(),
                                                  request.consent(), who.name));
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoPauseConsent(
    const auth::Principal& who,
    const haven::v1::ChangeConsentStatusRequest& request,
    haven::v1::ChangeConsentStatusResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(*response->mutable_receipt(),
                         context_.consents->Pause(request.consent_id(),
                                                  request.reason(), who.name));
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoResumeConsent(
    const auth::Principal& who,
    const haven::v1::ChangeConsentStatusRequest& request,
    haven::v1::ChangeConsentStatusResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      *response->mutable_receipt(),
      context_.consents->Resume(request.consent_id(), who.name));
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoRevokeConsent(
    const auth::Principal& who,
    const haven::v1::ChangeConsentStatusRequest& request,
    haven::v1::ChangeConsentStatusResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(*response->mutable_receipt(),
                         context_.consents->Revoke(request.consent_id(),
                                                   request.reason(), who.name));
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoRecordRefusal(
    const auth::Principal& who, const haven::v1::RecordRefusalRequest& request,
    haven::v1::RecordRefusalResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      *response->mutable_refusal(),
      context_.consents->RecordRefusal(request.subject_id(),
                                       request.evidence_sha256(), who.name));
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoLiftRefusal(
    const auth::Principal& who, const haven::v1::LiftRefusalRequest& request,
    haven::v1::LiftRefusalResponse* response) {
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
