#include "server/services/services.h"

namespace haven::server::services {

std::vector<std::unique_ptr<grpc::Service>> MakeLocalServices(
    const Modules& m) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<RecordServiceImpl>(m.env, m.records));
  services.push_back(std::make_unique<ConsentServiceImpl>(m.env, m.consents));
  services.push_back(std::make_unique<ExchangeServiceImpl>(m.env, m.exchange));
  services.push_back(std::make_unique<AuditServiceImpl>(m.env, m.audit));
  services.push_back(std::make_unique<AdminServiceImpl>(m.env, m.admin));
  services.push_back(std::make_unique<AuthServiceImpl>(m.env, m.accounts));
  return services;
}

std::vector<std::unique_ptr<grpc::Service>> MakePeerServices(const Modules& m) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<PeerServiceImpl>(m.env, m.peer));
  return services;
}

}  // namespace haven::server::services
