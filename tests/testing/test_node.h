// TestNode: a real havend process with its own CA-issued certificate,
// master key, bearer tokens and data dir, for end-to-end tests.
//
// Ports are chosen by the kernel (port 0) and read back from the node's
// "node_started" log line, so tests never race for a port. Everything lives
// under a directory the test owns. The destructor kills a node still running.
// Not thread-safe.
#ifndef HAVEN_TESTS_TESTING_TEST_NODE_H_
#define HAVEN_TESTS_TESTING_TEST_NODE_H_

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "tests/testing/subprocess.h"

namespace haven::testing {

// Paths of the binaries under test and the source tree, set by CMake.
std::string HavendPath();
std::string HavenctlPath();
std::string SourceDir();

// `bytes` random bytes as lower-case hex: ids, tokens, keys.
std::string RandomHex(size_t bytes);
// The wall clock, in Unix seconds (what a request's send time holds).
int64_t NowUnix();
// A deadline `delay` from now, for a call or a bounded wait.
std::chrono::system_clock::time_point In(std::chrono::milliseconds delay);

// Makes a CA and one certificate per agency under `dir` with
// deploy/make-certs.sh. Returns false (and fills `error`) on failure.
bool MakeCertificates(const std::string& dir,
                      const std::vector<std::string>& agencies,
                      std::string* error);

class TestNode {
 public:
  struct Options {
    std::string agency_id = "safe-harbor";
    std::string root_dir;  // node files go to root_dir/agency_id
    std::string pki_dir;   // from MakeCertificates
    bool peer_api = true;
    // Where the peer API listens when `peer_api` is set. Port 0 lets the
    // kernel choose; a federation fixes it so the manifest can name it.
    std::string peer_listen_address = "127.0.0.1:0";
    // Extra text appended to the config (e.g. manifest_file: "...").
    std::string extra_config;
    // Extra environment variables for havend, "NAME=value" (e.g. an
    // LD_PRELOAD library that makes syncs fail).
    std::vector<std::string> env;
    // Deliver the master key as systemd would with LoadCredential=: a file
    // named haven-master-key in the directory $CREDENTIALS_DIRECTORY names,
    // and no master_key_file in the config.
    bool master_key_as_credential = false;
  };
  static constexpr const char* kRoles[] = {"caseworker", "advocate", "auditor",
                                           "admin"};

  // Writes the node's files; does not start it.
  explicit TestNode(Options options);
  ~TestNode();

  // Starts havend and waits (bounded) for it to report its ports. Returns
  // false with the log in `error` if it exits or does not come up.
  bool Start(std::string* error);
  // SIGTERM and wait; returns havend's exit code (or -1 on timeout).
  int Stop();
  // SIGKILL and reap.
  void Kill();
  // Waits up to `timeout` for havend to exit (by itself, or after Stop or a
  // failed Start); returns its exit code (128+signal if killed), or nullopt
  // if it still runs or was never started.
  std::optional<int> WaitForExit(std::chrono::milliseconds timeout);
  // Sets the extra environment of the next Start (see Options::env), e.g.
  // for a node a TestFederation made.
  void set_env(std::vector<std::string> env) { options_.env = std::move(env); }

  // The havend process id while it runs, -1 before Start.
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  const std::string& dir() const { return dir_; }
  const std::string& config_path() const { return config_path_; }
  const std::string& log_path() const { return log_path_; }
  const std::string& ca_file() const { return ca_file_; }
  const std::string& local_address() const { return local_address_; }
  const std::string& peer_address() const { return peer_address_; }
  // Where the node serves /metrics; empty unless the config sets
  // metrics_listen_address (via Options::extra_config).
  const std::string& metrics_address() const { return metrics_address_; }
  const std::string& agency_id() const { return options_.agency_id; }
  // The master key as 64 hex digits (to prove it appears nowhere it must
  // not).
  const std::string& master_key_hex() const { return master_key_hex_; }
  std::string token(const std::string& role) const;
  std::string token_file(const std::string& role) const;
  std::string Log() const { return ReadFileOrEmpty(log_path_); }
  // A new channel to the local API over TLS, trusting the test CA. Make a
  // new one after a restart: the local port changes.
  std::shared_ptr<grpc::Channel> LocalChannel() const;
  // A call context for the local API as `role`: its bearer token and a
  // deadline `timeout` from now.
  std::unique_ptr<grpc::ClientContext> ClientContext(
      const std::string& role,
      std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;

  // Runs havenctl against this node as `role`; returns its exit code.
  int Havenctl(const std::string& role, const std::vector<std::string>& args,
               std::string* output) const;

 private:
  Options options_;
  std::string dir_;
  std::string config_path_;
  std::string log_path_;
  std::string ca_file_;
  std::string local_address_;
  std::string peer_address_;
  std::string metrics_address_;
  std::map<std::string, std::string> tokens_;
  std::string master_key_hex_;
  std::string credentials_env_;  // "CREDENTIALS_DIRECTORY=..." or empty
  std::unique_ptr<Subprocess> process_;
};

// Makes certificates under `pki_dir` and starts one "safe-harbor" node
// without a peer API under `root_dir`: the setup of single-node tests. Null,
// with `error` filled, if either step fails.
std::unique_ptr<TestNode> StartLoneNode(const std::string& root_dir,
                                        const std::string& pki_dir,
                                        std::string* error);

}  // namespace haven::testing

#endif  // HAVEN_TESTS_TESTING_TEST_NODE_H_
