// Per-RPC latency for the metrics endpoint: a gRPC server interceptor that
// times every call of a server, from the moment gRPC hands it over to the
// moment its status is sent, into
//   haven_rpc_duration_seconds{api, service, method, code}
// where `api` says which server ("local" or "peer"), service and method
// name the RPC ("haven.v1.RecordService", "PutRecord") and code is its
// status code name ("OK", "PERMISSION_DENIED", ...; "CANCELLED" for a call
// that ended without a status).
//
// The method name comes from the wire, so it is a label only if this
// binary knows it (a haven.v1 or other compiled-in service, or gRPC's
// health service); any other becomes service="unknown", method="unknown"
// and cannot grow the series. Thread-safe.
#ifndef HAVEN_SERVER_SERVICES_RPC_METRICS_H_
#define HAVEN_SERVER_SERVICES_RPC_METRICS_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "grpcpp/support/server_interceptor.h"
#include "server/metrics/registry.h"

namespace haven::server::services {

// The (service, method) labels of a gRPC path "/pkg.Service/Method": the
// two names if this binary serves such a method (see above), else
// ("unknown", "unknown").
std::pair<std::string, std::string> RpcMethodLabels(absl::string_view path);

// An interceptor factory for ServerBuilder::experimental()
// .SetInterceptorCreators, recording into `registry` (borrowed; must
// outlive the server) with api=`api`.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRpcMetricsInterceptorFactory(metrics::Registry* registry, std::string api);

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_RPC_METRICS_H_
