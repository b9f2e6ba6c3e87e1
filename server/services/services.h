// Factories for the node's gRPC services.
//
// Each service authenticates the caller and checks its role on every RPC
// before doing anything else (RpcEnv), then hands the request to the one
// module it adapts (or, for the admin facade, the few it names). The
// returned services borrow `modules`, which must outlive them.
#ifndef HAVEN_SERVER_SERVICES_SERVICES_H_
#define HAVEN_SERVER_SERVICES_SERVICES_H_

#include <memory>
#include <vector>

#include "grpcpp/impl/codegen/service_type.h"
#include "server/services/admin_service.h"
#include "server/services/audit_service.h"
#include "server/services/auth_service.h"
#include "server/services/consent_service.h"
#include "server/services/exchange_service.h"
#include "server/services/peer_service.h"
#include "server/services/record_service.h"
#include "server/services/rpc_env.h"

namespace haven::server::services {

// What the Node hands the factories: the common per-RPC environment and,
// per service, what that service adapts.
struct Modules {
  RpcEnv env;
  vault::RecordDesk* records = nullptr;
  consent::ConsentRegistry* consents = nullptr;
  auth::Accounts* accounts = nullptr;
  ExchangeServiceImpl::Deps exchange;
  AuditServiceImpl::Deps audit;
  AdminServiceImpl::Deps admin;
  PeerServiceImpl::Deps peer;
};

// RecordService, ConsentService, ExchangeService, AuditService, AdminService,
// AuthService.
std::vector<std::unique_ptr<grpc::Service>> MakeLocalServices(
    const Modules& modules);

// PeerService (mutual TLS only).
std::vector<std::unique_ptr<grpc::Service>> MakePeerServices(
    const Modules& modules);

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_SERVICES_H_
