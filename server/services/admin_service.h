// AdminService: node operation (status, manifest, policy, keys, backups,
// rollback acknowledgement). Admin role.
#ifndef HAVEN_SERVER_SERVICES_ADMIN_SERVICE_H_
#define HAVEN_SERVER_SERVICES_ADMIN_SERVICE_H_

#include "absl/time/time.h"
#include "haven/v1/admin.grpc.pb.h"
#include "policy/policy_holder.h"
#include "server/audit/audit_recorder.h"
#include "server/audit/rollback_guard.h"
#include "server/audit/signing_key_store.h"
#include "server/backup/backup.h"
#include "server/consent/consent_registry.h"
#include "server/consent/policy_in_force.h"
#include "server/federation/manifest.h"
#include "server/federation/manifest_update.h"
#include "server/federation/node_certificate.h"
#include "server/services/rpc_env.h"
#include "server/services/rpc_macros.h"
#include "server/vault/record_desk.h"

namespace haven::server::services {

class AdminServiceImpl final : public haven::v1::AdminService::CallbackService {
 public:
  // A facade over the node's operation: what it adapts, borrowed; each
  // outlives the service.
  struct Deps {
    std::string agency_id;
    std::string version;
    absl::Time started;
    const federation::FederationRegistry* federation = nullptr;
    federation::ManifestUpdater* manifests = nullptr;
    const audit::AuditRecorder* audit = nullptr;
    const policy::PolicyHolder* policy = nullptr;
    consent::PolicyInForce* policy_in_force = nullptr;
    vault::RecordDesk* desk = nullptr;
    consent::ConsentRegistry* consents = nullptr;
    backup::BackupMaker* backups = nullptr;
    audit::RollbackGuard* rollback = nullptr;
    federation::NodeCertificate* certificate = nullptr;
    audit::SigningKeyStore* signing_keys = nullptr;
  };
  AdminServiceImpl(const RpcEnv& env, Deps deps)
      : env_(env), deps_(std::move(deps)) {}

  HAVEN_UNARY_RPC(GetStatus, GetStatusRequest, GetStatusResponse,
                  haven::v1::CASEWORKER, haven::v1::ADVOCATE,
                  haven::v1::AUDITOR, haven::v1::ADMIN);
  HAVEN_UNARY_RPC(ReloadManifest, ReloadManifestRequest, ReloadManifestResponse,
                  haven::v1::ADMIN);
  HAVEN_UNARY_RPC(LoadPolicy, LoadPolicyRequest, LoadPolicyResponse,
                  haven::v1::ADMIN);
  HAVEN_UNARY_RPC(GetPolicy, GetPolicyRequest, GetPolicyResponse,
                  haven::v1::ADMIN, haven::v1::AUDITOR);
  HAVEN_UNARY_RPC(ReloadCertificate, ReloadCertificateRequest,
                  ReloadCertificateResponse, haven::v1::ADMIN);
  HAVEN_UNARY_RPC(RotateKey, RotateKeyRequest, RotateKeyResponse,
                  haven::v1::ADMIN);
  HAVEN_UNARY_RPC(RetireKey, RetireKeyRequest, RetireKeyResponse,
                  haven::v1::ADMIN);
  HAVEN_UNARY_RPC(RotateSigningKey, RotateSigningKeyRequest,
                  RotateSigningKeyResponse, haven::v1::ADMIN);
  HAVEN_UNARY_RPC(ExplainDecision, ExplainDecisionRequest,
                  ExplainDecisionResponse, haven::v1::ADMIN,
                  haven::v1::ADVOCATE);
  HAVEN_UNARY_RPC(Backup, BackupRequest, BackupResponse, haven::v1::ADMIN);
  HAVEN_UNARY_RPC(AcknowledgeRollback, AcknowledgeRollbackRequest,
                  AcknowledgeRollbackResponse, haven::v1::ADMIN);

 private:
  const RpcEnv& env_;
  const Deps deps_;
};

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_ADMIN_SERVICE_H_
