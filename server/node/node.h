// Node: one running havend — its storage, its modules and its two gRPC
// servers (the local API with bearer tokens, and the peer API with mutual
// TLS).
//
// Created from a checked configuration; Start() binds the ports (and the
// metrics endpoint, when metrics_listen_address is set), Shutdown() drains
// calls with a deadline. Thread-safe: Shutdown may be called from a
// signal-handling thread while Start has returned.
#ifndef HAVEN_SERVER_NODE_NODE_H_
#define HAVEN_SERVER_NODE_NODE_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "server/node/config.h"
#include "server/storage/storage.h"

namespace haven::server::metrics {
class MetricsEndpoint;
}  // namespace haven::server::metrics

namespace haven::server::node {

// The node's signed-note verifier key (what the federation manifest
// publishes), from its master key file alone: `havend --init` prints it
// before the manifest that will carry it exists.
absl::StatusOr<std::string> VerifierKeyFromMasterKey(
    const haven::v1::NodeConfig& config);

class Node {
 public:
  // Opens the node's storage (RocksDB in the config's data dir, or
  // `storage` when given: tests pass a fault-injecting one), checks it
  // (see audit_log.h and recovery.h) and builds every module. Nothing is
  // served until Start.
  static absl::StatusOr<std::unique_ptr<Node>> Create(
      LoadedConfig config, std::unique_ptr<storage::Storage> storage = nullptr);
  ~Node();

  // Runs once, on the thread whose write failed, when the storage stops
  // after a failed write (fail-stop): every RPC is refused from then on,
  // and the process should exit non-zero so that it is restarted.
  void SetFailStopHandler(absl::AnyInvocable<void()> handler);
  // Whether the node has stopped after a failed write.
  bool failed() const;
  // After a failed write: waits (bounded) until the commit that failed has
  // recorded what the next start must undo. Call before exiting.
  void SettleAfterFailure(absl::Duration timeout) const;

  // Binds and starts serving. UNAVAILABLE naming the address if a port
  // cannot be bound.
  absl::Status Start();
  // Stops accepting calls and waits up to `grace` for running ones.
  void Shutdown(absl::Duration grace);

  // Addresses actually bound (port 0 in the config is resolved here).
  const std::string& local_address() const { return local_address_; }
  const std::string& peer_address() const { return peer_address_; }
  // Empty when metrics are off.
  const std::string& metrics_address() const { return metrics_address_; }
  // The node's signed-note verifier key (for the federation manifest).
  std::string verifier_key() const;

 private:
  explicit Node(LoadedConfig config);
  // Runs a federation round every interval until Shutdown.
  void WitnessLoop();
  void OnFailStop();
  struct Modules;
  // Registers the gauges read when scraped (tree size, consents, outbox).
  static void AddScrapeTimeMetrics(const std::string& self, Modules* m);

  LoadedConfig config_;
  std::unique_ptr<Modules> modules_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<grpc::Server> local_server_;
  std::unique_ptr<grpc::Server> peer_server_;
  std::unique_ptr<metrics::MetricsEndpoint> metrics_endpoint_;
  std::string local_address_;
  std::string peer_address_;
  std::string metrics_address_;
  std::thread witness_thread_;
  mutable absl::Mutex stop_mu_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;
  bool failed_ ABSL_GUARDED_BY(stop_mu_) = false;
  absl::AnyInvocable<void()> on_fail_stop_ ABSL_GUARDED_BY(stop_mu_);
};

}  // namespace haven::server::node

#endif  // HAVEN_SERVER_NODE_NODE_H_
