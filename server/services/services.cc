#include "server/services/services.h"

#include "haven/v1/admin.grpc.pb.h"
#include "haven/v1/audit.grpc.pb.h"
#include "haven/v1/consent.grpc.pb.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "haven/v1/records.grpc.pb.h"
#include "server/services/admin_service.h"
#include "server/services/peer_service.h"

namespace haven::server::services {
namespace {

// Services whose RPCs are not served yet: registered so that clients and
// reflection see the whole contract; every method answers UNIMPLEMENTED
// without touching data.
class RecordServiceImpl final : public haven::v1::RecordService::CallbackService {};
class ConsentServiceImpl final
    : public haven::v1::ConsentService::CallbackService {};
class ExchangeServiceImpl final
    : public haven::v1::ExchangeService::CallbackService {};
class AuditServiceImpl final : public haven::v1::AuditService::CallbackService {};

}  // namespace

std::vector<std::unique_ptr<grpc::Service>> MakeLocalServices(
    const ServiceContext& context) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<RecordServiceImpl>());
  services.push_back(std::make_unique<ConsentServiceImpl>());
  services.push_back(std::make_unique<ExchangeServiceImpl>());
  services.push_back(std::make_unique<AuditServiceImpl>());
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
