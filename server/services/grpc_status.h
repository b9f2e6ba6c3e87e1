// The one place an absl::Status becomes a grpc::Status.
#ifndef HAVEN_SERVER_SERVICES_GRPC_STATUS_H_
#define HAVEN_SERVER_SERVICES_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace haven::server::services {

// Same code, same message. Messages are written for people and carry no
// content, keys or tokens (every module keeps that rule), so they pass as is.
inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_GRPC_STATUS_H_
