// NodeCertificate: this node's TLS certificate and private key, as the peer
// API presents them and the calls to peers present them, switched at run
// time without a restart (certificate rotation).
//
// The operator replaces the files tls.cert_file and tls.key_file name, then
// asks for the switch (havenctl admin reload-certificate). Reload reads both
// files once and checks the pair before anything changes: the key belongs to
// the certificate, the task-force CA in force issued it, it names this
// agency, and the manifest in force lists it for this member (cert_sha256,
// or next_cert_sha256 during a rotation window). A file caught half-written,
// or a certificate the peers would refuse, so leaves the node on its old
// certificate and the operator gets the reason. A switch is logged
// (KEY_ROTATED) before it takes effect; if the entry cannot be written,
// nothing switches.
//
// Why not let gRPC watch the configured files: its
// FileWatcherCertificateProvider (1.51) reads the key and the certificate
// as two files, guarded only by their modification times in whole seconds,
// and installs whatever pair it read without checking it against itself,
// the CA or the manifest. An operator replacing the two files one after the
// other could have the peer API serve the new key with the old certificate,
// and every handshake fail, until the next read.
//
// The peer server still needs a provider that can change under it, and
// that file watcher is the only one gRPC 1.51 offers. So the node feeds it
// an in-memory file (memfd) of its own holding the key and the certificate
// chain together, and replaces that file whole (dup3 onto the same
// descriptor) after a checked reload. One file means the two are always
// read together; each replacement gets a later modification second, so the
// watcher's own before-and-after check catches a read that straddles it.
// The watcher reads it every second: new connections to the peer API get
// the new certificate within about a second of Reload; connections already
// open keep the session they made. Calls this node makes use the new
// certificate from the next call on (the install listener remakes them).
//
// The CA is the one read at start; replacing ca_file needs a restart. The
// local API keeps the certificate it started with (see README.md).
//
// Thread-safe. Reloads serialise.
#ifndef HAVEN_SERVER_FEDERATION_NODE_CERTIFICATE_H_
#define HAVEN_SERVER_FEDERATION_NODE_CERTIFICATE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "server/audit/audit_recorder.h"
#include "server/federation/manifest.h"

namespace haven::server::federation {

class NodeCertificate {
 public:
  // A certificate chain and its key, as PEM.
  struct Identity {
    std::string cert_pem;
    std::string key_pem;
    // Hex SHA-256 of the leaf certificate's DER form; empty if unreadable.
    std::string cert_sha256;
  };

  struct Options {
    std::string agency_id;
    // Absolute paths from the config.
    std::string cert_file;
    std::string key_file;
    // The task-force CA as read at start.
    std::string ca_pem;
    // The identity read at start (not re-checked: the node starts with
    // what it was given, as before rotation existed).
    Identity initial;
    // Borrowed; outlive the NodeCertificate.
    const FederationRegistry* federation = nullptr;
    const audit::AuditRecorder* audit = nullptr;
  };

  static absl::StatusOr<std::unique_ptr<NodeCertificate>> Create(
      Options options);
  ~NodeCertificate();
  NodeCertificate(const NodeCertificate&) = delete;
  NodeCertificate& operator=(const NodeCertificate&) = delete;

  Identity current() const;

  // For the peer server: the current identity and the CA, re-read every
  // second from the node's in-memory file.
  std::shared_ptr<grpc::experimental::CertificateProviderInterface>
  server_provider() const {
    return provider_;
  }

  // Called after each switch, in the reloading thread, before Reload
  // returns (e.g. to make the peer channels present the new certificate).
  // Set once, before the NodeCertificate is shared.
  using InstallListener = std::function<void(const Identity&)>;
  void SetInstallListener(InstallListener listener) {
    listener_ = std::move(listener);
  }

  struct Reloaded {
    std::string cert_sha256;
    // False when the files hold the certificate already in use.
    bool changed = false;
  };
  // Reads and checks the files and switches to them for `principal` (see
  // the file comment). FAILED_PRECONDITION names what is wrong with the
  // files; messages hold paths, agency ids and fingerprints, never key
  // material.
  absl::StatusOr<Reloaded> Reload(const std::string& principal);

 private:
  NodeCertificate(Options options, int identity_fd, int ca_fd);
  // A new in-memory file holding `identity`, with a modification second
  // later than any published before.
  absl::StatusOr<int> Prepare(const Identity& identity)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  // Puts the file `fd` (from Prepare) behind identity_fd_ and closes `fd`.
  void Publish(int fd) ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);

  // Constant after construction.
  const Options options_;
  const int identity_fd_;
  const int ca_fd_;
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider_;
  InstallListener listener_;

  absl::Mutex reload_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // Modification time (Unix seconds) of the in-memory file last published.
  int64_t published_second_ ABSL_GUARDED_BY(reload_mu_) = 0;

  mutable absl::Mutex mu_;
  Identity current_ ABSL_GUARDED_BY(mu_);
};

// Checks that `key_pem` is the private key of the first certificate in
// `cert_pem`, that the certificate chains to a CA in `ca_pem` and that its
// common name is `agency_id`. FAILED_PRECONDITION says which check failed.
absl::Status CheckNodeCertificate(const std::string& cert_pem,
                                  const std::string& key_pem,
                                  const std::string& ca_pem,
                                  const std::string& agency_id);

}  // namespace haven::server::federation

#endif  // HAVEN_SERVER_FEDERATION_NODE_CERTIFICATE_H_
