// NodeClient: typed calls to one Haven node's local API (records, consent,
// exchange, audit, admin and policy, health), for agency tools and havenctl.
//
// Every call goes through one place (Unary / NewStream below) that attaches
// the bearer token, applies the per-call deadline of ConnectionOptions
// (streams take their own), and turns the gRPC status into an absl::Status
// with the node's code and message: UNAUTHENTICATED for a missing or wrong
// token, PERMISSION_DENIED for a role that may not make the call,
// DEADLINE_EXCEEDED or UNAVAILABLE when the node does not answer in time.
//
// Thread-safe: calls may be made from several threads at once (gRPC stubs
// and channels are); a ServerStream is used by one thread.
#ifndef HAVEN_CLIENT_NODE_CLIENT_H_
#define HAVEN_CLIENT_NODE_CLIENT_H_

#include <chrono>
#include <memory>

#include "absl/status/statusor.h"
#include "client/connection.h"
#include "client/server_stream.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "haven/base/grpc_status.h"
#include "haven/v1/admin.grpc.pb.h"
#include "haven/v1/audit.grpc.pb.h"
#include "haven/v1/auth.grpc.pb.h"
#include "haven/v1/consent.grpc.pb.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "haven/v1/records.grpc.pb.h"

namespace haven::client {

namespace v1 = ::haven::v1;

class NodeClient {
 public:
  // FAILED_PRECONDITION if the CA file cannot be read. Connecting is lazy:
  // an unreachable node shows as UNAVAILABLE on the first call.
  static absl::StatusOr<std::unique_ptr<NodeClient>> Create(
      ConnectionOptions options);

  const ConnectionOptions& options() const { return connection_->options(); }
  const Connection& connection() const { return *connection_; }

  // Records (caseworker role).
  absl::StatusOr<v1::CreateSubjectResponse> CreateSubject(
      const v1::CreateSubjectRequest& request) const;
  absl::StatusOr<v1::PutRecordResponse> PutRecord(
      const v1::PutRecordRequest& request) const;
  absl::StatusOr<v1::GetRecordResponse> GetRecord(
      const v1::GetRecordRequest& request) const;
  absl::StatusOr<v1::ListRecordsResponse> ListRecords(
      const v1::ListRecordsRequest& request) const;
  absl::StatusOr<v1::EraseSubjectResponse> EraseSubject(
      const v1::EraseSubjectRequest& request) const;
  // Also advocate role.
  absl::StatusOr<v1::FindSubjectResponse> FindSubject(
      const v1::FindSubjectRequest& request) const;

  // Consent and refusal (advocate role).
  absl::StatusOr<v1::RecordConsentResponse> RecordConsent(
      const v1::RecordConsentRequest& request) const;
  absl::StatusOr<v1::AmendConsentResponse> AmendConsent(
      const v1::AmendConsentRequest& request) const;
  absl::StatusOr<v1::ChangeConsentStatusResponse> PauseConsent(
      const v1::ChangeConsentStatusRequest& request) const;
  absl::StatusOr<v1::ChangeConsentStatusResponse> ResumeConsent(
      const v1::ChangeConsentStatusRequest& request) const;
  absl::StatusOr<v1::ChangeConsentStatusResponse> RevokeConsent(
      const v1::ChangeConsentStatusRequest& request) const;
  absl::StatusOr<v1::RecordRefusalResponse> RecordRefusal(
      const v1::RecordRefusalRequest& request) const;
  absl::StatusOr<v1::LiftRefusalResponse> LiftRefusal(
      const v1::LiftRefusalRequest& request) const;
  absl::StatusOr<v1::GetConsentResponse> GetConsent(
      const v1::GetConsentRequest& request) const;
  absl::StatusOr<v1::ListConsentsResponse> ListConsents(
      const v1::ListConsentsRequest& request) const;

  // Exchange with other agencies through this node (caseworker role).
  absl::StatusOr<v1::RequestDisclosureResponse> RequestDisclosure(
      const v1::RequestDisclosureRequest& request) const;
  absl::StatusOr<v1::ListHandlesResponse> ListHandles(
      const v1::ListHandlesRequest& request) const;
  // Revocation notices until `deadline` (time_point::max(): until
  // cancelled).
  std::unique_ptr<ServerStream<v1::WatchNoticesResponse>> WatchNotices(
      const v1::WatchNoticesRequest& request,
      std::chrono::system_clock::time_point deadline) const;

  // The audit log (auditor role; SubjectAccessReport also advocate).
  absl::StatusOr<v1::GetCheckpointResponse> GetCheckpoint(
      const v1::GetCheckpointRequest& request) const;
  absl::StatusOr<v1::GetEntriesResponse> GetEntries(
      const v1::GetEntriesRequest& request) const;
  absl::StatusOr<v1::FindEntriesResponse> FindEntries(
      const v1::FindEntriesRequest& request) const;
  absl::StatusOr<v1::GetInclusionProofResponse> GetInclusionProof(
      const v1::GetInclusionProofRequest& request) const;
  absl::StatusOr<v1::GetConsistencyProofResponse> GetConsistencyProof(
      const v1::GetConsistencyProofRequest& request) const;
  absl::StatusOr<v1::GetProofBundleResponse> GetProofBundle(
      const v1::GetProofBundleRequest& request) const;
  absl::StatusOr<v1::SubjectAccessReportResponse> SubjectAccessReport(
      const v1::SubjectAccessReportRequest& request) const;
  absl::StatusOr<v1::GetWitnessedResponse> GetWitnessed(
      const v1::GetWitnessedRequest& request) const;
  absl::StatusOr<v1::ListBreakGlassReviewsResponse> ListBreakGlassReviews(
      const v1::ListBreakGlassReviewsRequest& request) const;
  absl::StatusOr<v1::SignOffBreakGlassResponse> SignOffBreakGlass(
      const v1::SignOffBreakGlassRequest& request) const;
  // New entries from `request.start()` as they are appended: no deadline,
  // runs until cancelled or the node ends it.
  std::unique_ptr<ServerStream<v1::FollowResponse>> Follow(
      const v1::FollowRequest& request) const;

  // Node operation and policy (admin role; ExplainDecision also advocate,
  // GetPolicy also auditor).
  absl::StatusOr<v1::GetStatusResponse> GetStatus(
      const v1::GetStatusRequest& request) const;
  absl::StatusOr<v1::ReloadManifestResponse> ReloadManifest(
      const v1::ReloadManifestRequest& request) const;
  absl::StatusOr<v1::ReloadCertificateResponse> ReloadCertificate(
      const v1::ReloadCertificateRequest& request) const;
  absl::StatusOr<v1::RotateKeyResponse> RotateKey(
      const v1::RotateKeyRequest& request) const;
  absl::StatusOr<v1::RotateSigningKeyResponse> RotateSigningKey(
      const v1::RotateSigningKeyRequest& request) const;
  absl::StatusOr<v1::RetireKeyResponse> RetireKey(
      const v1::RetireKeyRequest& request) const;
  absl::StatusOr<v1::LoadPolicyResponse> LoadPolicy(
      const v1::LoadPolicyRequest& request) const;
  absl::StatusOr<v1::GetPolicyResponse> GetPolicy(
      const v1::GetPolicyRequest& request) const;
  absl::StatusOr<v1::ExplainDecisionResponse> ExplainDecision(
      const v1::ExplainDecisionRequest& request) const;
  absl::StatusOr<v1::BackupResponse> Backup(
      const v1::BackupRequest& request) const;
  absl::StatusOr<v1::AcknowledgeRollbackResponse> AcknowledgeRollback(
      const v1::AcknowledgeRollbackRequest& request) const;

  // Personal accounts and sessions (auth.proto). SignIn, BeginEnrolment
  // and ConfirmEnrolment need no token; the user calls need the admin
  // role.
  absl::StatusOr<v1::SignInResponse> SignIn(
      const v1::SignInRequest& request) const;
  absl::StatusOr<v1::BeginEnrolmentResponse> BeginEnrolment(
      const v1::BeginEnrolmentRequest& request) const;
  absl::StatusOr<v1::ConfirmEnrolmentResponse> ConfirmEnrolment(
      const v1::ConfirmEnrolmentRequest& request) const;
  absl::StatusOr<v1::SignOutResponse> SignOut(
      const v1::SignOutRequest& request) const;
  absl::StatusOr<v1::WhoAmIResponse> WhoAmI(
      const v1::WhoAmIRequest& request) const;
  absl::StatusOr<v1::AddUserResponse> AddUser(
      const v1::AddUserRequest& request) const;
  absl::StatusOr<v1::DisableUserResponse> DisableUser(
      const v1::DisableUserRequest& request) const;
  absl::StatusOr<v1::ListUsersResponse> ListUsers(
      const v1::ListUsersRequest& request) const;
  absl::StatusOr<v1::ResetUserResponse> ResetUser(
      const v1::ResetUserRequest& request) const;
  // The standard gRPC health service (no token needed).
  absl::StatusOr<grpc::health::v1::HealthCheckResponse> CheckHealth(
      const grpc::health::v1::HealthCheckRequest& request) const;

 private:
  explicit NodeClient(std::unique_ptr<Connection> connection);

  // The one unary call path: credentials and deadline from the connection,
  // the gRPC status converted once.
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Unary(
      Stub& stub,
      grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                   Response*),
      const Request& request) const {
    std::unique_ptr<grpc::ClientContext> context = connection_->NewContext();
    Response response;
    absl::Status status =
        FromGrpcStatus((stub.*method)(context.get(), request, &response));
    if (!status.ok()) return status;
    return response;
  }

  // Constant after construction.
  std::unique_ptr<Connection> connection_;
  std::unique_ptr<v1::RecordService::Stub> records_;
  std::unique_ptr<v1::ConsentService::Stub> consent_;
  std::unique_ptr<v1::ExchangeService::Stub> exchange_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::AuthService::Stub> auth_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

}  // namespace haven::client

#endif  // HAVEN_CLIENT_NODE_CLIENT_H_
