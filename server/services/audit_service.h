// AuditService: read-only access to the audit log for auditors (and, for
// the subject access report, advocates). Nothing here changes the log.
#ifndef HAVEN_SERVER_SERVICES_AUDIT_SERVICE_H_
#define HAVEN_SERVER_SERVICES_AUDIT_SERVICE_H_

#include "haven/v1/audit.grpc.pb.h"
#include "server/audit/audit_recorder.h"
#include "server/audit/break_glass_reviews.h"
#include "server/exchange/cosignature_store.h"
#include "server/exchange/witness.h"
#include "server/services/rpc_env.h"
#include "server/services/rpc_macros.h"

namespace haven::server::services {

class AuditServiceImpl final : public haven::v1::AuditService::CallbackService {
 public:
  // The modules it adapts; borrowed, they outlive the service.
  struct Deps {
    const audit::AuditRecorder* audit = nullptr;
    exchange::Witness* witness = nullptr;
    exchange::CosignatureStore* cosignatures = nullptr;
    audit::BreakGlassReviews* reviews = nullptr;
  };
  AuditServiceImpl(const RpcEnv& env, Deps deps) : env_(env), deps_(deps) {}

  HAVEN_UNARY_RPC(GetCheckpoint, GetCheckpointRequest, GetCheckpointResponse,
                  haven::v1::AUDITOR, haven::v1::ADMIN);
  HAVEN_UNARY_RPC(GetEntries, GetEntriesRequest, GetEntriesResponse,
                  haven::v1::AUDITOR);
  HAVEN_UNARY_RPC(FindEntries, FindEntriesRequest, FindEntriesResponse,
                  haven::v1::AUDITOR);
  HAVEN_UNARY_RPC(GetInclusionProof, GetInclusionProofRequest,
                  GetInclusionProofResponse, haven::v1::AUDITOR);
  HAVEN_UNARY_RPC(GetConsistencyProof, GetConsistencyProofRequest,
                  GetConsistencyProofResponse, haven::v1::AUDITOR);
  HAVEN_UNARY_RPC(GetProofBundle, GetProofBundleRequest, GetProofBundleResponse,
                  haven::v1::AUDITOR);
  HAVEN_UNARY_RPC(SubjectAccessReport, SubjectAccessReportRequest,
                  SubjectAccessReportResponse, haven::v1::ADVOCATE,
                  haven::v1::AUDITOR);
  HAVEN_UNARY_RPC(GetWitnessed, GetWitnessedRequest, GetWitnessedResponse,
                  haven::v1::CASEWORKER, haven::v1::ADVOCATE,
                  haven::v1::AUDITOR, haven::v1::ADMIN);
  HAVEN_UNARY_RPC(ListBreakGlassReviews, ListBreakGlassReviewsRequest,
                  ListBreakGlassReviewsResponse, haven::v1::AUDITOR);
  HAVEN_UNARY_RPC(SignOffBreakGlass, SignOffBreakGlassRequest,
                  SignOffBreakGlassResponse, haven::v1::AUDITOR);

  grpc::ServerWriteReactor<haven::v1::FollowResponse>* Follow(
      grpc::CallbackServerContext* call,
      const haven::v1::FollowRequest* request) override;

 private:
  const RpcEnv& env_;
  const Deps deps_;
};

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_AUDIT_SERVICE_H_
