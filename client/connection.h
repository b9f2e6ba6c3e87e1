// Connection: a TLS channel to one Haven node plus the caller's credentials.
//
// The node is verified against the task-force CA (or the system roots when
// no CA is given); the bearer token is sent as call metadata on every call.
// Every call made through NewContext() carries a deadline. Thread-safe.
#ifndef HAVEN_CLIENT_CONNECTION_H_
#define HAVEN_CLIENT_CONNECTION_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace haven::client {

struct ConnectionOptions {
  // host:port of the node's local API.
  std::string address = "127.0.0.1:7441";
  // PEM file of the CA that issued the node's certificate.
  std::string ca_file;
  // Expected name in the node's certificate (agency id); empty to use the
  // host part of `address`.
  std::string server_name;
  // Bearer token of the local principal; may be empty for health checks.
  std::string token;
  // Deadline applied to each call.
  std::chrono::milliseconds timeout{10000};
};

class Connection {
 public:
  // FAILED_PRECONDITION if the CA file cannot be read.
  static absl::StatusOr<std::unique_ptr<Connection>> Create(
      ConnectionOptions options);

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  const ConnectionOptions& options() const { return options_; }

  // A context with the credentials and the per-call deadline set, for one
  // call. The one place the bearer token is attached.
  std::unique_ptr<grpc::ClientContext> NewContext() const;
  // The same with another deadline, for a stream that outlives one call's
  // timeout (time_point::max() for a stream that runs until cancelled).
  std::unique_ptr<grpc::ClientContext> NewContext(
      std::chrono::system_clock::time_point deadline) const;

 private:
  Connection(ConnectionOptions options, std::shared_ptr<grpc::Channel> channel)
      : options_(std::move(options)), channel_(std::move(channel)) {}

  ConnectionOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
};

// Reads a token file (first line, surrounding white space removed).
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace haven::client

#endif  // HAVEN_CLIENT_CONNECTION_H_
