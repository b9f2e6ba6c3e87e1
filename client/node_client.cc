#include "client/node_client.h"

#include <utility>

#include "grpcpp/channel.h"

namespace haven::client {

absl::StatusOr<std::unique_ptr<NodeClient>> NodeClient::Create(
    ConnectionOptions options) {
  auto connection = Connection::Create(std::move(options));
  if (!connection.ok()) return connection.status();
  return std::unique_ptr<NodeClient>(new NodeClient(*std::move(connection)));
}

NodeClient::NodeClient(std::unique_ptr<Connection> connection)
    : connection_(std::move(connection)),
      records_(v1::RecordService::NewStub(connection_->channel())),
      consent_(v1::ConsentService::NewStub(connection_->channel())),
      exchange_(v1::ExchangeService::NewStub(connection_->channel())),
      audit_(v1::AuditService::NewStub(connection_->channel())),
      admin_(v1::AdminService::NewStub(connection_->channel())),
      auth_(v1::AuthService::NewStub(connection_->channel())),
      health_(grpc::health::v1::Health::NewStub(connection_->channel())) {}

absl::StatusOr<v1::CreateSubjectResponse> NodeClient::CreateSubject(
    const v1::CreateSubjectRequest& request) const {
  return Unary(*records_, &v1::RecordService::Stub::CreateSubject, request);
}

absl::StatusOr<v1::PutRecordResponse> NodeClient::PutRecord(
    const v1::PutRecordRequest& request) const {
  return Unary(*records_, &v1::RecordService::Stub::PutRecord, request);
}

absl::StatusOr<v1::GetRecordResponse> NodeClient::GetRecord(
    const v1::GetRecordRequest& request) const {
  return Unary(*records_, &v1::RecordService::Stub::GetRecord, request);
}

absl::StatusOr<v1::ListRecordsResponse> NodeClient::ListRecords(
    const v1::ListRecordsRequest& request) const {
  return Unary(*records_, &v1::RecordService::Stub::ListRecords, request);
}

absl::StatusOr<v1::EraseSubjectResponse> NodeClient::EraseSubject(
    const v1::EraseSubjectRequest& request) const {
  return Unary(*records_, &v1::RecordService::Stub::EraseSubject, request);
}

absl::StatusOr<v1::RecordConsentResponse> NodeClient::RecordConsent(
    const v1::RecordConsentRequest& request) const {
  return Unary(*consent_, &v1::ConsentService::Stub::RecordConsent, request);
}

absl::StatusOr<v1::AmendConsentResponse> NodeClient::AmendConsent(
    const v1::AmendConsentRequest& request) const {
  return Unary(*consent_, &v1::ConsentService::Stub::AmendConsent, request);
}

absl::StatusOr<v1::ChangeConsentStatusResponse> NodeClient::PauseConsent(
    const v1::ChangeConsentStatusRequest& request) const {
  return Unary(*consent_, &v1::ConsentService::Stub::PauseConsent, request);
}

absl::StatusOr<v1::ChangeConsentStatusResponse> NodeClient::ResumeConsent(
    const v1::ChangeConsentStatusRequest& request) const {
  return Unary(*consent_, &v1::ConsentService::Stub::ResumeConsent, request);
}

absl::StatusOr<v1::ChangeConsentStatusResponse> NodeClient::RevokeConsent(
    const v1::ChangeConsentStatusRequest& request) const {
  return Unary(*consent_, &v1::ConsentService::Stub::RevokeConsent, request);
}

absl::StatusOr<v1::RecordRefusalResponse> NodeClient::RecordRefusal(
    const v1::RecordRefusalRequest& request) const {
  return Unary(*consent_, &v1::ConsentService::Stub::RecordRefusal, request);
}

absl::StatusOr<v1::LiftRefusalResponse> NodeClient::LiftRefusal(
    const v1::LiftRefusalRequest& request) const {
  return Unary(*consent_, &v1::ConsentService::Stub::LiftRefusal, request);
}

absl::StatusOr<v1::GetConsentResponse> NodeClient::GetConsent(
    const v1::GetConsentRequest& request) const {
  return Unary(*consent_, &v1::ConsentService::Stub::GetConsent, request);
}

absl::StatusOr<v1::ListConsentsResponse> NodeClient::ListConsents(
    const v1::ListConsentsRequest& request) const {
  return Unary(*consent_, &v1::ConsentService::Stub::ListConsents, request);
}

absl::StatusOr<v1::RequestDisclosureResponse> NodeClient::RequestDisclosure(
    const v1::RequestDisclosureRequest& request) const {
  return Unary(*exchange_, &v1::ExchangeService::Stub::RequestDisclosure,
               request);
}

absl::StatusOr<v1::ListHandlesResponse> NodeClient::ListHandles(
    const v1::ListHandlesRequest& request) const {
  return Unary(*exchange_, &v1::ExchangeService::Stub::ListHandles, request);
}

absl::StatusOr<v1::GetCheckpointResponse> NodeClient::GetCheckpoint(
    const v1::GetCheckpointRequest& request) const {
  return Unary(*audit_, &v1::AuditService::Stub::GetCheckpoint, request);
}

absl::StatusOr<v1::GetEntriesResponse> NodeClient::GetEntries(
    const v1::GetEntriesRequest& request) const {
  return Unary(*audit_, &v1::AuditService::Stub::GetEntries, request);
}

absl::StatusOr<v1::FindEntriesResponse> NodeClient::FindEntries(
    const v1::FindEntriesRequest& request) const {
  return Unary(*audit_, &v1::AuditService::Stub::FindEntries, request);
}

absl::StatusOr<v1::GetInclusionProofResponse> NodeClient::GetInclusionProof(
    const v1::GetInclusionProofRequest& request) const {
  return Unary(*audit_, &v1::AuditService::Stub::GetInclusionProof, request);
}

absl::StatusOr<v1::GetConsistencyProofResponse> NodeClient::GetConsistencyProof(
    const v1::GetConsistencyProofRequest& request) const {
  return Unary(*audit_, &v1::AuditService::Stub::GetConsistencyProof, request);
}

absl::StatusOr<v1::GetProofBundleResponse> NodeClient::GetProofBundle(
    const v1::GetProofBundleRequest& request) const {
  return Unary(*audit_, &v1::AuditService::Stub::GetProofBundle, request);
}

absl::StatusOr<v1::SubjectAccessReportResponse> NodeClient::SubjectAccessReport(
    const v1::SubjectAccessReportRequest& request) const {
  return Unary(*audit_, &v1::AuditService::Stub::SubjectAccessReport, request);
}

absl::StatusOr<v1::GetWitnessedResponse> NodeClient::GetWitnessed(
    const v1::GetWitnessedRequest& request) const {
  return Unary(*audit_, &v1::AuditService::Stub::GetWitnessed, request);
}

absl::StatusOr<v1::ListBreakGlassReviewsResponse>
NodeClient::ListBreakGlassReviews(
    const v1::ListBreakGlassReviewsRequest& request) const {
  return Unary(*audit_, &v1::AuditService::Stub::ListBreakGlassReviews,
               request);
}

absl::StatusOr<v1::SignOffBreakGlassResponse> NodeClient::SignOffBreakGlass(
    const v1::SignOffBreakGlassRequest& request) const {
  return Unary(*audit_, &v1::AuditService::Stub::SignOffBreakGlass, request);
}

absl::StatusOr<v1::FindSubjectResponse> NodeClient::FindSubject(
    const v1::FindSubjectRequest& request) const {
  return Unary(*records_, &v1::RecordService::Stub::FindSubject, request);
}

#define HAVEN_AUTH_CALL(Method)                                    \
  absl::StatusOr<v1::Method##Response> NodeClient::Method(         \
      const v1::Method##Request& request) const {                  \
    return Unary(*auth_, &v1::AuthService::Stub::Method, request); \
  }
HAVEN_AUTH_CALL(SignIn)
HAVEN_AUTH_CALL(BeginEnrolment)
HAVEN_AUTH_CALL(ConfirmEnrolment)
HAVEN_AUTH_CALL(SignOut)
HAVEN_AUTH_CALL(WhoAmI)
HAVEN_AUTH_CALL(AddUser)
HAVEN_AUTH_CALL(DisableUser)
HAVEN_AUTH_CALL(ListUsers)
HAVEN_AUTH_CALL(ResetUser)
#undef HAVEN_AUTH_CALL

absl::StatusOr<v1::GetStatusResponse> NodeClient::GetStatus(
    const v1::GetStatusRequest& request) const {
  return Unary(*admin_, &v1::AdminService::Stub::GetStatus, request);
}

absl::StatusOr<v1::ReloadManifestResponse> NodeClient::ReloadManifest(
    const v1::ReloadManifestRequest& request) const {
  return Unary(*admin_, &v1::AdminService::Stub::ReloadManifest, request);
}

absl::StatusOr<v1::ReloadCertificateResponse> NodeClient::ReloadCertificate(
    const v1::ReloadCertificateRequest& request) const {
  return Unary(*admin_, &v1::AdminService::Stub::ReloadCertificate, request);
}

absl::StatusOr<v1::RotateSigningKeyResponse> NodeClient::RotateSigningKey(
    const v1::RotateSigningKeyRequest& request) const {
  return Unary(*admin_, &v1::AdminService::Stub::RotateSigningKey, request);
}

absl::StatusOr<v1::RotateKeyResponse> NodeClient::RotateKey(
    const v1::RotateKeyRequest& request) const {
  return Unary(*admin_, &v1::AdminService::Stub::RotateKey, request);
}

absl::StatusOr<v1::RetireKeyResponse> NodeClient::RetireKey(
    const v1::RetireKeyRequest& request) const {
  return Unary(*admin_, &v1::AdminService::Stub::RetireKey, request);
}

absl::StatusOr<v1::BackupResponse> NodeClient::Backup(
    const v1::BackupRequest& request) const {
  return Unary(*admin_, &v1::AdminService::Stub::Backup, request);
}

absl::StatusOr<v1::AcknowledgeRollbackResponse> NodeClient::AcknowledgeRollback(
    const v1::AcknowledgeRollbackRequest& request) const {
  return Unary(*admin_, &v1::AdminService::Stub::AcknowledgeRollback, request);
}

absl::StatusOr<v1::LoadPolicyResponse> NodeClient::LoadPolicy(
    const v1::LoadPolicyRequest& request) const {
  return Unary(*admin_, &v1::AdminService::Stub::LoadPolicy, request);
}

absl::StatusOr<v1::GetPolicyResponse> NodeClient::GetPolicy(
    const v1::GetPolicyRequest& request) const {
  return Unary(*admin_, &v1::AdminService::Stub::GetPolicy, request);
}

absl::StatusOr<v1::ExplainDecisionResponse> NodeClient::ExplainDecision(
    const v1::ExplainDecisionRequest& request) const {
  return Unary(*admin_, &v1::AdminService::Stub::ExplainDecision, request);
}

absl::StatusOr<grpc::health::v1::HealthCheckResponse> NodeClient::CheckHealth(
    const grpc::health::v1::HealthCheckRequest& request) const {
  return Unary(*health_, &grpc::health::v1::Health::Stub::Check, request);
}

std::unique_ptr<ServerStream<v1::WatchNoticesResponse>>
NodeClient::WatchNotices(const v1::WatchNoticesRequest& request,
                         std::chrono::system_clock::time_point deadline) const {
  return std::make_unique<ServerStream<v1::WatchNoticesResponse>>(
      connection_->NewContext(deadline), [&](grpc::ClientContext* context) {
        return exchange_->WatchNotices(context, request);
      });
}

std::unique_ptr<ServerStream<v1::FollowResponse>> NodeClient::Follow(
    const v1::FollowRequest& request) const {
  return std::make_unique<ServerStream<v1::FollowResponse>>(
      connection_->NewContext(std::chrono::system_clock::time_point::max()),
      [&](grpc::ClientContext* context) {
        return audit_->Follow(context, request);
      });
}

}  // namespace haven::client
