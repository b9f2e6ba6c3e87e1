// The one place a status crosses between absl and gRPC, in either direction.
//
// Codes map one to one (both follow google.rpc.Code). Messages pass as they
// are: every module writes them for people and puts no record content, key
// or token in them.
#ifndef HAVEN_BASE_GRPC_STATUS_H_
#define HAVEN_BASE_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace haven {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

inline absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

}  // namespace haven

#endif  // HAVEN_BASE_GRPC_STATUS_H_
