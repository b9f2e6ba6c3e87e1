#include "server/node/node_setup.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "haven/base/status_macros.h"
#include "server/crypto/digest.h"
#include "server/crypto/key_derivation.h"
#include "server/crypto/master_key.h"
#include "server/node/node.h"
#include "server/storage/rocksdb_storage.h"

namespace haven::server::node {
namespace {

namespace fs = std::filesystem;

template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using Request =
    std::unique_ptr<X509_REQ, OpenSslDeleter<X509_REQ, X509_REQ_free>>;
using Bio = std::unique_ptr<BIO, OpenSslDeleter<BIO, BIO_free_all>>;

absl::Status OpenSslError(absl::string_view what) {
  return absl::InternalError(absl::StrCat("cannot ", what, " (OpenSSL)"));
}

std::string Drain(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

// Syncs every file in `dir` (one level), then `dir` itself.
absl::Status SyncTree(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    HAVEN_RETURN_IF_ERROR(storage::SyncPath(entry.path().string()));
  }
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot list ", dir.string(), ": ", ec.message()));
  }
  return storage::SyncPath(dir.string());
}

// Removes what setups into `dir` killed midway left (".<name>.setup-<pid>"
// of a process that is gone): it holds a master key no node ever used.
void RemoveAbandonedStaging(const fs::path& dir) {
  const std::string prefix =
      absl::StrCat(".", dir.filename().string(), ".setup-");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    int pid = 0;
    if (!absl::StartsWith(name, prefix) ||
        !absl::SimpleAtoi(name.substr(prefix.size()), &pid) || pid <= 0) {
      continue;
    }
    if (::kill(pid, 0) != 0 && errno == ESRCH) {
      std::error_code ignored;
      fs::remove_all(entry.path(), ignored);
    }
  }
}

absl::Status WriteFile(const std::string& path, const std::string& text,
                       fs::perms mode) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out.flush()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot write ", path));
  }
  std::error_code ec;
  fs::permissions(path, mode, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot set the mode of ", path, ": ", ec.message()));
  }
  return absl::OkStatus();
}

// An ECDSA P-256 key, as deploy/make-certs.sh and most CAs expect, and a
// SHA-256 signed request naming the agency as CN and as subjectAltName
// DNS (peers check the name against the manifest).
absl::Status WriteKeyAndRequest(const std::string& agency_id,
                                const std::string& key_path,
                                std::string* csr_pem) {
  Key key(EVP_EC_gen("P-256"));
  if (key == nullptr) return OpenSslError("generate the TLS key");
  Request request(X509_REQ_new());
  if (request == nullptr || !X509_REQ_set_version(request.get(), 0) ||
      !X509_REQ_set_pubkey(request.get(), key.get())) {
    return OpenSslError("make the certificate request");
  }
  X509_NAME* name = X509_REQ_get_subject_name(request.get());
  const auto* cn = reinterpret_cast<const unsigned char*>(agency_id.c_str());
  if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0)) {
    return OpenSslError("name the certificate request");
  }
  const std::string san = absl::StrCat("DNS:", agency_id);
  X509_EXTENSION* extension =
      X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str());
  STACK_OF(X509_EXTENSION)* extensions = sk_X509_EXTENSION_new_null();
  const bool added = extension != nullptr && extensions != nullptr &&
                     sk_X509_EXTENSION_push(extensions, extension) > 0 &&
                     X509_REQ_add_extensions(request.get(), extensions) == 1;
  sk_X509_EXTENSION_pop_free(extensions, X509_EXTENSION_free);
  if (!added) return OpenSslError("add the subjectAltName");
  if (X509_REQ_sign(request.get(), key.get(), EVP_sha256()) <= 0) {
    return OpenSslError("sign the certificate request");
  }

  Bio key_bio(BIO_new(BIO_s_mem()));
  Bio csr_bio(BIO_new(BIO_s_mem()));
  if (key_bio == nullptr || csr_bio == nullptr ||
      !PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0,
                                nullptr, nullptr) ||
      !PEM_write_bio_X509_REQ(csr_bio.get(), request.get())) {
    return OpenSslError("write the TLS key and request");
  }
  std::string key_pem = Drain(key_bio.get());
  absl::Status written = WriteFile(
      key_path, key_pem, fs::perms::owner_read | fs::perms::owner_write);
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  HAVEN_RETURN_IF_ERROR(written);
  *csr_pem = Drain(csr_bio.get());
  return absl::OkStatus();
}

std::string ConfigText(const std::string& agency_id,
                       const std::string& admin_token_sha256) {
  return absl::StrCat(
      "# Haven node ", agency_id,
      " (haven.v1.NodeConfig; README \"Configuration reference\").\n"
      "# Made by havend --setup. Paths are relative to this file.\n"
      "agency_id: \"",
      agency_id, "\"\n",
      "listen_address: \"127.0.0.1:7443\"\n"
      "peer_listen_address: \"0.0.0.0:7444\"\n"
      "data_dir: \"data\"\n"
      "# Under systemd, remove this line and load the key as the credential\n"
      "# haven-master-key instead (README \"Running under systemd\").\n"
      "master_key_file: \"master.key\"\n"
      "tls {\n"
      "  cert_file: \"node.crt\"  # issued by the task-force CA from node.csr\n"
      "  key_file: \"node.key\"\n"
      "  ca_file: \"ca.crt\"      # the task-force CA's certificate\n"
      "}\n"
      "# The federation manifest, once the task force publishes this node:\n"
      "# manifest_file: \"manifest.textproto\"\n"
      "principals { name: \"",
      agency_id, "-admin\" role: ADMIN token_sha256: \"", admin_token_sha256,
      "\" }\n");
}

// Every file in a directory made only for this, so that a failure leaves
// nothing behind and a success appears all at once (one rename).
absl::StatusOr<NodeSetup> MakeInto(const fs::path& staging, const fs::path& dir,
                                   const std::string& agency_id) {
  std::error_code ec;
  fs::create_directory(staging / "data", ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create ", (staging / "data").string(), ": ", ec.message()));
  }
  fs::permissions(staging / "data", fs::perms::owner_all, ec);
  HAVEN_RETURN_IF_ERROR(
      crypto::CreateMasterKeyFile((staging / "master.key").string()).status());
  NodeSetup setup;
  HAVEN_RETURN_IF_ERROR(WriteKeyAndRequest(
      agency_id, (staging / "node.key").string(), &setup.csr_pem));
  HAVEN_RETURN_IF_ERROR(WriteFile((staging / "node.csr").string(),
                                  setup.csr_pem, fs::perms(0644)));
  std::string token = crypto::RandomHexId(32);
  HAVEN_RETURN_IF_ERROR(WriteFile((staging / "admin.token").string(),
                                  token + "\n", fs::perms(0600)));
  HAVEN_RETURN_IF_ERROR(WriteFile(
      (staging / "node.textproto").string(),
      ConfigText(agency_id, crypto::Sha256Hex(token)), fs::perms(0600)));
  OPENSSL_cleanse(token.data(), token.size());

  haven::v1::NodeConfig config;
  config.set_agency_id(agency_id);
  config.set_master_key_file((staging / "master.key").string());
  HAVEN_ASSIGN_OR_RETURN(setup.verifier_key, VerifierKeyFromMasterKey(config));
  setup.config_path = (dir / "node.textproto").string();
  return setup;
}

}  // namespace

absl::StatusOr<NodeSetup> SetUpNode(const std::string& dir_name,
                                    const std::string& agency_id) {
  if (agency_id.empty() || agency_id.size() > 63 ||
      agency_id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") !=
          std::string::npos) {
    return absl::InvalidArgumentError(
        "--agency must be 1 to 63 lower-case letters, digits and '-'");
  }
  const fs::path dir = fs::absolute(dir_name).lexically_normal();
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) {
      return absl::AlreadyExistsError(
          absl::StrCat(dir.string(), " exists and is not a directory"));
    }
    if (!fs::is_empty(dir, ec)) {
      return absl::AlreadyExistsError(absl::StrCat(
          dir.string(),
          " is not empty; setup never overwrites a node (nothing changed)"));
    }
  }
  RemoveAbandonedStaging(dir);
  const fs::path staging =
      dir.parent_path() /
      absl::StrCat(".", dir.filename().string(), ".setup-", getpid());
  if (!fs::create_directory(staging, ec) || ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", staging.string(), ": ",
                     ec ? ec.message() : std::string("it exists")));
  }
  fs::permissions(staging, fs::perms::owner_all, ec);
  absl::StatusOr<NodeSetup> setup = MakeInto(staging, dir, agency_id);
  if (setup.ok()) {
    if (absl::Status synced = SyncTree(staging); !synced.ok()) setup = synced;
  }
  // rename(2) replaces an empty directory and fails on a non-empty one, so
  // a directory filled meanwhile is never overwritten.
  if (setup.ok() && std::rename(staging.c_str(), dir.c_str()) != 0) {
    setup = absl::AlreadyExistsError(absl::StrCat(
        "cannot move the new node into ", dir.string(), " (nothing changed)"));
  }
  if (!setup.ok()) {
    fs::remove_all(staging, ec);
    return setup;
  }
  HAVEN_RETURN_IF_ERROR(storage::SyncPath(dir.parent_path().string()));
  return setup;
}

}  // namespace haven::server::node
