// Factories for the node's gRPC services.
//
// Each service authenticates the caller and checks its role on every RPC
// before doing anything else. The returned services borrow `context`, which
// must outlive them.
#ifndef HAVEN_SERVER_SERVICES_SERVICES_H_
#define HAVEN_SERVER_SERVICES_SERVICES_H_

#include <memory>
#include <vector>

#include "grpcpp/impl/codegen/service_type.h"
#include "server/services/service_context.h"

namespace haven::server::services {

// RecordService, ConsentService, ExchangeService, AuditService, AdminService.
std::vector<std::unique_ptr<grpc::Service>> MakeLocalServices(
    const ServiceContext& context);

// PeerService (mutual TLS only).
std::vector<std::unique_ptr<grpc::Service>> MakePeerServices(
    const ServiceContext& context);

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_SERVICES_H_
