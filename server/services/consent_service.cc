#include "server/services/consent_service.h"

#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "server/consent/consent_registry.h"

namespace haven::server::services {
namespace {

// The bounds of the fields of consent.proto's Consent that the registry
// ignores or overwrites (consent_id, subject_id on amendment, recorded_by,
// status_reason); it validates the terms it keeps. Without these, a request
// of any size was accepted, and a consent recorded, because a field of it
// went unread.
absl::Status CheckConsentBounds(const haven::v1::Consent& c) {
  HAVEN_RETURN_IF_ERROR(
      CheckNodeId(c.consent_id(), "consent.consent_id", /*required=*/false));
  HAVEN_RETURN_IF_ERROR(
      CheckNodeId(c.subject_id(), "consent.subject_id", /*required=*/false));
  HAVEN_RETURN_IF_ERROR(CheckMaxBytes(c.recorded_by(), "consent.recorded_by",
                                      limits::kMaxPrincipalBytes));
  return CheckMaxBytes(c.status_reason(), "consent.status_reason",
                       limits::kMaxReasonBytes);
}

// A change of the existing consent `consent_id` (checked first), whose
// receipt goes to `receipt`.
template <typename Change>
absl::Status ChangeExisting(const std::string& consent_id, Change change,
                            haven::v1::ConsentReceipt* receipt) {
  HAVEN_RETURN_IF_ERROR(
      CheckNodeId(consent_id, "consent_id", /*required=*/true));
  HAVEN_ASSIGN_OR_RETURN(*receipt, change());
  return absl::OkStatus();
}

// A status change that states a reason (pause, revoke).
using ReasonedChange = absl::StatusOr<haven::v1::ConsentReceipt> (
    consent::ConsentRegistry::*)(absl::string_view consent_id,
                                 absl::string_view reason,
                                 absl::string_view actor);
absl::Status ChangeWithReason(
    ReasonedChange change, consent::ConsentRegistry& consents,
    const auth::Principal& who,
    const haven::v1::ChangeConsentStatusRequest& request,
    haven::v1::ChangeConsentStatusResponse* response) {
  return ChangeExisting(
      request.consent_id(),
      [&] {
        return (consents.*change)(request.consent_id(), request.reason(),
                                  who.name);
      },
      response->mutable_receipt());
}

}  // namespace

// Each change is validated, committed with its audit entry and announced
// to peers by the registry itself; these are adapters from RPCs to it.

absl::Status ConsentServiceImpl::DoRecordConsent(
    const auth::Principal& who, const haven::v1::RecordConsentRequest& request,
    haven::v1::RecordConsentResponse* response) {
  HAVEN_RETURN_IF_ERROR(CheckConsentBounds(request.consent()));
  HAVEN_ASSIGN_OR_RETURN(
      *response->mutable_receipt(),
      consents_->Record(request.consent(), who.name));
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoAmendConsent(
    const auth::Principal& who, const haven::v1::AmendConsentRequest& request,
    haven::v1::AmendConsentResponse* response) {
  HAVEN_RETURN_IF_ERROR(CheckConsentBounds(request.consent()));
  return ChangeExisting(
      request.consent_id(),
      [&] {
        return consents_->Amend(request.consent_id(), request.consent(),
                                who.name);
      },
      response->mutable_receipt());
}

absl::Status ConsentServiceImpl::DoPauseConsent(
    const auth::Principal& who,
    const haven::v1::ChangeConsentStatusRequest& request,
    haven::v1::ChangeConsentStatusResponse* response) {
  return ChangeWithReason(&consent::ConsentRegistry::Pause, *consents_, who,
                          request, response);
}

absl::Status ConsentServiceImpl::DoResumeConsent(
    const auth::Principal& who,
    const haven::v1::ChangeConsentStatusRequest& request,
    haven::v1::ChangeConsentStatusResponse* response) {
  // A resumption states no reason, but one sent is bounded all the same.
  HAVEN_RETURN_IF_ERROR(
      CheckMaxBytes(request.reason(), "reason", limits::kMaxReasonBytes));
  return ChangeExisting(
      request.consent_id(),
      [&] { return consents_->Resume(request.consent_id(), who.name); },
      response->mutable_receipt());
}

absl::Status ConsentServiceImpl::DoRevokeConsent(
    const auth::Principal& who,
    const haven::v1::ChangeConsentStatusRequest& request,
    haven::v1::ChangeConsentStatusResponse* response) {
  return ChangeWithReason(&consent::ConsentRegistry::Revoke, *consents_, who,
                          request, response);
}

absl::Status ConsentServiceImpl::DoRecordRefusal(
    const auth::Principal& who, const haven::v1::RecordRefusalRequest& request,
    haven::v1::RecordRefusalResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(*response->mutable_refusal(),
                         consents_->RecordRefusal(
                             request.subject_id(), request.evidence_sha256(),
                             who.name, request.agency_id()));
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoLiftRefusal(
    const auth::Principal& who, const haven::v1::LiftRefusalRequest& request,
    haven::v1::LiftRefusalResponse* response) {
  HAVEN_RETURN_IF_ERROR(
      CheckNodeId(request.refusal_id(), "refusal_id", /*required=*/true));
  HAVEN_ASSIGN_OR_RETURN(
      *response->mutable_refusal(),
      consents_->LiftRefusal(request.refusal_id(), who.name));
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoGetConsent(
    const auth::Principal&, const haven::v1::GetConsentRequest& request,
    haven::v1::GetConsentResponse* response) {
  HAVEN_RETURN_IF_ERROR(
      CheckNodeId(request.consent_id(), "consent_id", /*required=*/true));
  HAVEN_ASSIGN_OR_RETURN(auto history,
                         consents_->Get(request.consent_id()));
  if (!history.empty()) {
    *response->mutable_receipt() = consents_->Receipt(history.back());
  }
  for (auto& version : history) *response->add_history() = std::move(version);
  return absl::OkStatus();
}

absl::Status ConsentServiceImpl::DoListConsents(
    const auth::Principal&, const haven::v1::ListConsentsRequest& request,
    haven::v1::ListConsentsResponse* response) {
  HAVEN_RETURN_IF_ERROR(
      CheckNodeId(request.subject_id(), "subject_id", /*required=*/true));
  *response = consents_->List(request.subject_id());
  return absl::OkStatus();
}

}  // namespace haven::server::services
