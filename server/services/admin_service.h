// AdminService: node operation (status, manifest, policy, keys). Admin role.
#ifndef HAVEN_SERVER_SERVICES_ADMIN_SERVICE_H_
#define HAVEN_SERVER_SERVICES_ADMIN_SERVICE_H_

#include "absl/synchronization/mutex.h"
#include "haven/v1/admin.grpc.pb.h"
#include "server/services/rpc_macros.h"
#include "server/services/service_context.h"
#include "server/storage/storage.h"

namespace haven::server::services {

class AdminServiceImpl final : public haven::v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(const ServiceContext& context)
      : context_(context) {}

  HAVEN_UNARY_RPC(GetStatus, GetStatusRequest, GetStatusResponse,
                  haven::v1::ADMIN, haven::v1::AUDITOR);
  HAVEN_UNARY_RPC(ReloadManifest, ReloadManifestRequest, ReloadManifestResponse,
                  haven::v1::ADMIN);
  HAVEN_UNARY_RPC(LoadPolicy, LoadPolicyRequest, LoadPolicyResponse,
                  haven::v1::ADMIN);
  HAVEN_UNARY_RPC(GetPolicy, GetPolicyRequest, GetPolicyResponse,
                  haven::v1::ADMIN, haven::v1::AUDITOR);
  HAVEN_UNARY_RPC(RotateKey, RotateKeyRequest, RotateKeyResponse,
                  haven::v1::ADMIN);
  HAVEN_UNARY_RPC(RetireKey, RetireKeyRequest, RetireKeyResponse,
                  haven::v1::ADMIN);
  HAVEN_UNARY_RPC(ExplainDecision, ExplainDecisionRequest,
                  ExplainDecisionResponse, haven::v1::ADMIN,
                  haven::v1::ADVOCATE);

 private:
  absl::Status CommitKeyChange(const auth::Principal& who, std::string detail,
                               storage::WriteBatch state);

  const ServiceContext& context_;
  absl::Mutex policy_load_mu_;
};

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_ADMIN_SERVICE_H_
