#include "server/federation/node_certificate.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "haven/base/status_macros.h"
#include "server/federation/peer_identity.h"
#include "server/node/event_log.h"

namespace haven::server::federation {
namespace {

// How often gRPC's watcher re-reads the in-memory file, in seconds.
constexpr unsigned int kRefreshSeconds = 1;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct StoreFree {
  void operator()(X509_STORE* store) const { X509_STORE_free(store); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* ctx) const { X509_STORE_CTX_free(ctx); }
};
struct StackFree {
  void operator()(STACK_OF(X509) * stack) const {
    sk_X509_pop_free(stack, X509_free);
  }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;

Bio MemoryBio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Never prompts: an encrypted key is refused, not asked about.
int NoPassword(char*, int, int, void*) { return 0; }

// Every certificate in `pem`, in order.
std::vector<Cert> ReadCertificates(const std::string& pem) {
  std::vector<Cert> certs;
  Bio bio = MemoryBio(pem);
  while (bio != nullptr) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr);
    if (cert == nullptr) break;
    certs.emplace_back(cert);
  }
  // The loop ends on "no more PEM"; that is not an error to keep.
  ERR_clear_error();
  return certs;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path,
                                          const std::string& field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", field, " ", path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The key file stays closed to group and others, as at start.
absl::Status CheckKeyFileMode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("tls.key_file ", path, " cannot be examined"));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "tls.key_file %s is accessible by group or others (mode %04o); "
        "chmod 600 %s",
        path, st.st_mode & 07777, path));
  }
  return absl::OkStatus();
}

// An anonymous in-memory file holding `bytes`, closed on exec, or -1.
int MemoryFile(const char* name, const std::string& bytes, int64_t second) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return -1;
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return -1;
    }
    written += static_cast<size_t>(n);
  }
  // gRPC's watcher compares modification times in whole seconds before and
  // after it reads: each replacement must carry a later second than the
  // last for a straddling read to be noticed.
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = static_cast<time_t>(second);
  times[1].tv_nsec = 0;
  if (fchmod(fd, 0600) != 0 || futimens(fd, times) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string FdPath(int fd) { return absl::StrCat("/proc/self/fd/", fd); }

// The key first: gRPC reads the key and the chain from the same bytes, and
// OpenSSL skips the PEM blocks of the other kind in each.
std::string Combined(const NodeCertificate::Identity& identity) {
  std::string bytes = identity.key_pem;
  if (!bytes.empty() && bytes.back() != '\n') bytes += '\n';
  bytes += identity.cert_pem;
  return bytes;
}

}  // namespace

absl::Status CheckNodeCertificate(const std::string& cert_pem,
                                  const std::string& key_pem,
                                  const std::string& ca_pem,
                                  const std::string& agency_id) {
  std::vector<Cert> chain = ReadCertificates(cert_pem);
  if (chain.empty()) {
    return absl::FailedPreconditionError(
        "tls.cert_file holds no PEM certificate");
  }
  X509* leaf = chain.front().get();
  Bio key_bio = MemoryBio(key_pem);
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      key_bio == nullptr ? nullptr
                         : PEM_read_bio_PrivateKey(key_bio.get(), nullptr,
                                                   NoPassword, nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return absl::FailedPreconditionError(
        "tls.key_file holds no unencrypted PEM private key");
  }
  if (X509_check_private_key(leaf, key.get()) != 1) {
    ERR_clear_error();
    return absl::FailedPreconditionError(
        "the key in tls.key_file is not the certificate's key in "
        "tls.cert_file (replace both files, then reload)");
  }

  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (store == nullptr || untrusted == nullptr || ctx == nullptr) {
    return absl::ResourceExhaustedError("out of memory checking certificate");
  }
  std::vector<Cert> cas = ReadCertificates(ca_pem);
  for (const Cert& ca : cas) X509_STORE_add_cert(store.get(), ca.get());
  for (size_t i = 1; i < chain.size(); ++i) {
    X509_up_ref(chain[i].get());
    sk_X509_push(untrusted.get(), chain[i].get());
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1 ||
      X509_verify_cert(ctx.get()) != 1) {
    const int error = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return absl::FailedPreconditionError(absl::StrCat(
        "the certificate in tls.cert_file is not accepted by the task-force "
        "CA in force: ",
        X509_verify_cert_error_string(error)));
  }

  char common_name[256] = {0};
  int length =
      X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName,
                                common_name, sizeof(common_name));
  if (length < 0 ||
      std::string(common_name, static_cast<size_t>(length)) != agency_id) {
    ERR_clear_error();
    return absl::FailedPreconditionError(absl::StrCat(
        "the certificate in tls.cert_file does not name this agency '",
        agency_id, "' as its common name"));
  }
  return absl::OkStatus();
}

NodeCertificate::NodeCertificate(Options options, int identity_fd, int ca_fd)
    : options_(std::move(options)), identity_fd_(identity_fd), ca_fd_(ca_fd) {}

NodeCertificate::~NodeCertificate() {
  // The watcher thread reads the files until the provider goes.
  provider_.reset();
  close(identity_fd_);
  close(ca_fd_);
}

absl::StatusOr<std::unique_ptr<NodeCertificate>> NodeCertificate::Create(
    Options options) {
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  int identity_fd =
      MemoryFile("haven-tls-identity", Combined(options.initial), now);
  int ca_fd = MemoryFile("haven-tls-ca", options.ca_pem, now);
  if (identity_fd < 0 || ca_fd < 0) {
    if (identity_fd >= 0) close(identity_fd);
    if (ca_fd >= 0) close(ca_fd);
    return absl::UnavailableError(
        "cannot make the in-memory file for the node's TLS certificate");
  }
  Identity initial = options.initial;
  std::unique_ptr<NodeCertificate> certificate(
      new NodeCertificate(std::move(options), identity_fd, ca_fd));
  {
    absl::MutexLock lock(&certificate->reload_mu_);
    certificate->published_second_ = now;
  }
  {
    absl::MutexLock lock(&certificate->mu_);
    certificate->current_ = std::move(initial);
  }
  // The watcher reads the files once here, so the server has its identity
  // from the first handshake on.
  certificate->provider_ =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          FdPath(identity_fd), FdPath(identity_fd), FdPath(ca_fd),
          kRefreshSeconds);
  return certificate;
}

NodeCertificate::Identity NodeCertificate::current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

absl::StatusOr<int> NodeCertificate::Prepare(const Identity& identity) {
  const int64_t second = std::max<int64_t>(
      static_cast<int64_t>(std::time(nullptr)), published_second_ + 1);
  int fd = MemoryFile("haven-tls-identity", Combined(identity), second);
  if (fd < 0) {
    return absl::UnavailableError(
        "cannot make the in-memory file for the node's TLS certificate");
  }
  published_second_ = second;
  return fd;
}

void NodeCertificate::Publish(int fd) {
  // Atomic: a reader of the path opens either the old file or the new one.
  // dup3 onto an open descriptor of ours, with valid flags, cannot fail
  // but for EINTR, which it does not return on Linux.
  const int replaced = dup3(fd, identity_fd_, O_CLOEXEC);
  close(fd);
  if (replaced < 0) {
    node::LogEvent("certificate_switch_failed",
                   {{"error", std::strerror(errno)}});
  }
}

absl::StatusOr<NodeCertificate::Reloaded> NodeCertificate::Reload(
    const std::string& principal) {
  absl::MutexLock reload(&reload_mu_);
  HAVEN_RETURN_IF_ERROR(CheckKeyFileMode(options_.key_file));
  Identity next;
  HAVEN_ASSIGN_OR_RETURN(next.cert_pem,
                         ReadWholeFile(options_.cert_file, "tls.cert_file"));
  HAVEN_ASSIGN_OR_RETURN(next.key_pem,
                         ReadWholeFile(options_.key_file, "tls.key_file"));
  HAVEN_RETURN_IF_ERROR(CheckNodeCertificate(
      next.cert_pem, next.key_pem, options_.ca_pem, options_.agency_id));
  auto fingerprint = CertificateFingerprint(next.cert_pem);
  if (!fingerprint.ok()) {
    return absl::FailedPreconditionError(
        "tls.cert_file holds no readable PEM certificate");
  }
  next.cert_sha256 = *fingerprint;

  const Identity previous = current();
  if (next.cert_sha256 == previous.cert_sha256 &&
      next.key_pem == previous.key_pem && next.cert_pem == previous.cert_pem) {
    return Reloaded{next.cert_sha256, false};
  }
  // Peers identify this node by the manifest's fingerprints: a certificate
  // it does not list would have every peer call refused.
  const std::shared_ptr<const Manifest> manifest =
      options_.federation->current();
  if (const haven::v1::Member* self = manifest->Find(options_.agency_id);
      self != nullptr && !IsListedCertificate(*self, next.cert_sha256)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the manifest in force (serial ", manifest->proto().serial(),
        ") lists certificate ", next.cert_sha256,
        " neither as this member's cert_sha256 nor as its next_cert_sha256, "
        "so peers would refuse it; publish it as next_cert_sha256 and reload "
        "the manifest first. The node keeps its certificate"));
  }

  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::KEY_ROTATED);
  entry.set_detail(
      absl::StrCat("TLS certificate ", next.cert_sha256, " replaces ",
                   previous.cert_sha256.empty() ? "an unreadable one"
                                                : previous.cert_sha256));
  // Everything that can fail is done before the entry, so that a logged
  // switch happens.
  HAVEN_ASSIGN_OR_RETURN(int fd, Prepare(next));
  if (absl::Status logged =
          options_.audit->Record(entry, principal, "").status();
      !logged.ok()) {
    close(fd);
    return logged;
  }
  Publish(fd);
  {
    absl::MutexLock lock(&mu_);
    current_ = next;
  }
  if (listener_) listener_(next);
  node::LogEvent("certificate_reloaded", {{"by", principal},
                                          {"cert_sha256", next.cert_sha256},
                                          {"previous", previous.cert_sha256}});
  return Reloaded{next.cert_sha256, true};
}

}  // namespace haven::server::federation
