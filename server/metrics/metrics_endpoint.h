// MetricsEndpoint: serves a Registry as GET /metrics, in the Prometheus
// text format (exposition.h), over plain HTTP/1.1 with cpp-httplib.
//
// Plain HTTP carries no authentication and no encryption, so the node's
// config checker accepts only loopback addresses for it (config.cc); this
// class binds whatever it is given. It answers GET /metrics and nothing
// else (404), reads no request body (413 for one), keeps at most 5
// requests per connection, gives up on a client silent for 5 s and serves
// from 2 threads, so a local scraper cannot tie up more than that.
//
// The process ignores SIGPIPE once an endpoint starts: a scraper hanging
// up mid-response must not kill the node. Thread-safe; Stop is idempotent
// and the destructor stops.
#ifndef HAVEN_SERVER_METRICS_METRICS_ENDPOINT_H_
#define HAVEN_SERVER_METRICS_METRICS_ENDPOINT_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/metrics/registry.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace haven::server::metrics {

class MetricsEndpoint {
 public:
  // Binds `address` ("host:port", "[v6]:port"; port 0 lets the kernel pick)
  // and serves `registry`, which must outlive the endpoint, on threads of
  // its own. INVALID_ARGUMENT for an address that is not host:port;
  // UNAVAILABLE naming the address if it cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address, const Registry* registry);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // Stops accepting, finishes the requests in progress, joins the threads.
  void Stop();
  // "host:port" actually bound (port 0 resolved).
  const std::string& address() const { return address_; }

 private:
  MetricsEndpoint(std::unique_ptr<httplib::Server> server, std::string address);

  // Constant after construction.
  const std::unique_ptr<httplib::Server> server_;
  const std::string address_;

  absl::Mutex stop_mu_;
  std::thread listener_ ABSL_GUARDED_BY(stop_mu_);
};

}  // namespace haven::server::metrics

#endif  // HAVEN_SERVER_METRICS_METRICS_ENDPOINT_H_
