#include "server/services/rpc_metrics.h"

#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/support/interceptor.h"

namespace haven::server::services {
namespace {

using grpc::experimental::InterceptionHookPoints;

class RpcTimer : public grpc::experimental::Interceptor {
 public:
  RpcTimer(metrics::Histogram* durations, const std::string& api,
           std::pair<std::string, std::string> rpc)
      : durations_(durations),
        api_(api),
        rpc_(std::move(rpc)),
        start_(std::chrono::steady_clock::now()) {}

  // A call torn down without a status (the client went away) still took
  // its time.
  ~RpcTimer() override {
    if (!observed_) Observe(grpc::StatusCode::CANCELLED);
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (!observed_ && methods->QueryInterceptionHookPoint(
                          InterceptionHookPoints::PRE_SEND_STATUS)) {
      Observe(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Observe(grpc::StatusCode code) {
    observed_ = true;
    const int value = static_cast<int>(code);
    const std::string name =
        value >= 0 && value <= 16
            ? absl::StatusCodeToString(static_cast<absl::StatusCode>(value))
            : "UNKNOWN";
    durations_->Observe(
        {api_, rpc_.first, rpc_.second, name},
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
            .count());
  }

  metrics::Histogram* const durations_;
  const std::string& api_;  // the factory's, which outlives its calls
  const std::pair<std::string, std::string> rpc_;
  const std::chrono::steady_clock::time_point start_;
  bool observed_ = false;  // gRPC runs one interception at a time per call
};

class RpcTimerFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  RpcTimerFactory(metrics::Histogram* durations, std::string api)
      : durations_(durations), api_(std::move(api)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcTimer(durations_, api_, RpcMethodLabels(info->method()));
  }

 private:
  metrics::Histogram* const durations_;
  const std::string api_;
};

}  // namespace

std::pair<std::string, std::string> RpcMethodLabels(absl::string_view path) {
  const std::pair<std::string, std::string> unknown = {"unknown", "unknown"};
  if (path.size() < 4 || path.front() != '/') return unknown;
  const size_t slash = path.rfind('/');
  if (slash == 0 || slash + 1 >= path.size()) return unknown;
  std::string service(path.substr(1, slash - 1));
  std::string method(path.substr(slash + 1));
  // gRPC's own health service is not a generated protobuf service here.
  if (service == "grpc.health.v1.Health" &&
      (method == "Check" || method == "Watch")) {
    return {std::move(service), std::move(method)};
  }
  // The names must be the method's own: "/haven.v1/RecordService.Get"
  // finds the same method under another split.
  const google::protobuf::MethodDescriptor* known =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          absl::StrCat(service, ".", method));
  if (known == nullptr || known->service()->full_name() != service ||
      known->name() != method) {
    return unknown;
  }
  return {std::move(service), std::move(method)};
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRpcMetricsInterceptorFactory(metrics::Registry* registry, std::string api) {
  // 0.5 ms to ~16 s: a local read is sub-millisecond, a disclosure waits for
  // a peer and two synced commits.
  metrics::Histogram* durations = registry->AddHistogram(
      "haven_rpc_duration_seconds",
      "Time from receiving an RPC to sending its status, by API (local, "
      "peer), service, method and status code.",
      {"api", "service", "method", "code"},
      metrics::ExponentialBuckets(0.0005, 2, 16));
  return std::make_unique<RpcTimerFactory>(durations, std::move(api));
}

}  // namespace haven::server::services
