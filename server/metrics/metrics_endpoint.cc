#include "server/metrics/metrics_endpoint.h"

#include <sys/socket.h>

#include <chrono>
#include <csignal>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "httplib.h"
#include "server/metrics/exposition.h"

namespace haven::server::metrics {
namespace {

// What a scraper may ask of the endpoint (see the header).
constexpr size_t kThreads = 2;
constexpr size_t kRequestsPerConnection = 5;
constexpr int kIoTimeoutSeconds = 5;

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address, const Registry* registry) {
  const size_t colon = address.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", address, "': expected host:port"));
  }
  std::string host = address.substr(0, colon);
  // "[::1]" names the IPv6 host ::1; the resolver wants it bare.
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }

  // A scraper that hangs up mid-response makes the next write raise
  // SIGPIPE, whose default action would end the node.
  std::signal(SIGPIPE, SIG_IGN);

  auto server = std::make_unique<httplib::Server>();
  server->new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  // httplib's default is SO_REUSEPORT, which would let a second process of
  // the same user bind the same port and take a share of the scrapes;
  // SO_REUSEADDR alone still allows a quick restart.
  server->set_socket_options([](socket_t socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server->set_payload_max_length(0);
  server->set_keep_alive_max_count(kRequestsPerConnection);
  server->set_read_timeout(kIoTimeoutSeconds, 0);
  server->set_write_timeout(kIoTimeoutSeconds, 0);
  server->Get("/metrics",
              [registry](const httplib::Request&, httplib::Response& response) {
                response.set_content(RenderText(registry->Collect()),
                                     std::string(kTextContentType));
              });

  const int bound = port == 0 ? server->bind_to_any_port(host)
                              : (server->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for metrics on ",
                                               address,
                                               ": address in use or not "
                                               "local"));
  }
  const std::string bound_address =
      absl::StrCat(address.substr(0, colon), ":", bound);
  return std::unique_ptr<MetricsEndpoint>(
      new MetricsEndpoint(std::move(server), bound_address));
}

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<httplib::Server> server,
                                 std::string address)
    : server_(std::move(server)), address_(std::move(address)) {
  httplib::Server* raw = server_.get();
  absl::MutexLock lock(&stop_mu_);
  listener_ = std::thread([raw] { raw->listen_after_bind(); });
  // stop() only takes effect once the listener runs; wait for that
  // (bounded) so that a Stop right after Start cannot be lost.
  for (int i = 0; i < 5000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

MetricsEndpoint::~MetricsEndpoint() { Stop(); }

void MetricsEndpoint::Stop() {
  absl::MutexLock lock(&stop_mu_);
  if (!listener_.joinable()) return;
  server_->stop();
  listener_.join();
}

}  // namespace haven::server::metrics
