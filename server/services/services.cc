#include "server/services/services.h"

#include "haven/v1/admin.grpc.pb.h"
#include "haven/v1/audit.grpc.pb.h"
#include "haven/v1/consent.grpc.pb.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "haven/v1/records.grpc.pb.h"
#include "server/services/admin_service.h"
#include "server/services/audit_service.h"
#include "server/services/consent_service.h"
#include "server/services/exchange_service.h"
#include "server/services/peer_service.h"
#include "server/services/record_service.h"

namespace haven::server::services {

std::vector<std::unique_ptr<grpc::Service>> MakeLocalServices(
    const ServiceContext& context) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<RecordServiceImpl>(context));
  services.push_back(std::make_unique<ConsentServiceImpl>(context));
  services.push_back(std::make_unique<ExchangeServiceImpl>(context));
  services.push_back(std::make_unique<AuditServiceImpl>(context));
  services.push_back(std::make_unique<AdminServiceImpl>(context));
  return services;
}

std::vector<std::unique_ptr<grpc::Service>> MakePeerServices(
    const ServiceContext& context) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<PeerServiceImpl>(context));
  return services;
}

}  // namespace haven::server::services
