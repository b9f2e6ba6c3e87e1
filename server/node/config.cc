#include "server/node/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "client/verify/signed_manifest.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "haven/base/hex.h"

namespace haven::server::node {
namespace {

namespace fs = std::filesystem;
using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

// Collects the first syntax error as "file:line:col: message".
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  explicit FirstErrorCollector(std::string file) : file_(std::move(file)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!first_.empty()) return;
    // The parser counts from 0; editors count from 1.
    first_ = absl::StrCat(file_, ":", line + 1, ":", column + 1, ": ", message);
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber,
                  const std::string&) override {}
  const std::string& first() const { return first_; }

 private:
  std::string file_;
  std::string first_;
};

std::string Absolute(const fs::path& base_dir, const std::string& value) {
  if (value.empty()) return value;
  fs::path p(value);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (base_dir / p).lexically_normal().string();
}

// Records "file:line" for each set field of `message`, recursively.
void RecordLocations(const std::string& file,
                     const google::protobuf::Message& m,
                     const TextFormat::ParseInfoTree& tree,
                     const std::string& prefix,
                     std::map<std::string, std::string>* out) {
  const auto* descriptor = m.GetDescriptor();
  const auto* reflection = m.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    const std::string name = prefix + field->name();
    int count = field->is_repeated() ? reflection->FieldSize(m, field)
                                     : (reflection->HasField(m, field) ? 1 : 0);
    for (int j = 0; j < count; ++j) {
      auto loc = tree.GetLocation(field, field->is_repeated() ? j : -1);
      std::string key =
          field->is_repeated() ? absl::StrCat(name, "[", j, "]") : name;
      if (loc.line >= 0) (*out)[key] = absl::StrCat(file, ":", loc.line + 1);
      if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
        const auto* nested =
            tree.GetTreeForNested(field, field->is_repeated() ? j : -1);
        if (nested == nullptr) continue;
        const auto& sub = field->is_repeated()
                              ? reflection->GetRepeatedMessage(m, field, j)
                              : reflection->GetMessage(m, field);
        RecordLocations(file, sub, *nested, key + ".", out);
      }
    }
  }
}

// Whether the host of `address` ("host:port") is this machine's loopback:
// 127.0.0.0/8, [::1] or localhost. Names other than localhost are not
// resolved: what they resolve to can change after the check.
bool IsLoopbackHostPort(const std::string& address) {
  const std::string host = address.substr(0, address.rfind(':'));
  if (host == "localhost" || host == "[::1]") return true;
  in_addr v4;
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 &&
         (ntohl(v4.s_addr) >> 24) == 127;
}

bool ValidHostPort(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port)) return false;
  return port >= 0 && port <= 65535;
}

}  // namespace

std::string LoadedConfig::Where(const std::string& field_path) const {
  auto it = locations.find(field_path);
  if (it != locations.end()) return absl::StrCat(it->second, ": ", field_path);
  return absl::StrCat(path, ": ", field_path);
}

absl::StatusOr<LoadedConfig> LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), path);
}

absl::StatusOr<LoadedConfig> ParseConfig(const std::string& text,
                                         const std::string& path) {
  LoadedConfig loaded;
  std::error_code ec;
  fs::path absolute_path = fs::absolute(path, ec);
  loaded.path = path;

  TextFormat::Parser parser;
  FirstErrorCollector errors(path);
  TextFormat::ParseInfoTree tree;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(text, &loaded.config)) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed config: ", errors.first()));
  }
  RecordLocations(path, loaded.config, tree, "", &loaded.locations);

  haven::v1::NodeConfig& c = loaded.config;
  auto missing = [&](const std::string& field) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid config: ", path, ": ", field, ": required but not set"));
  };
  auto invalid = [&](const std::string& field, const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid config: ", loaded.Where(field), ": ", why));
  };

  if (c.agency_id().empty()) return missing("agency_id");
  for (char ch : c.agency_id()) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) {
      return invalid("agency_id", "use lower-case letters, digits and '-'");
    }
  }
  if (c.listen_address().empty()) return missing("listen_address");
  if (!ValidHostPort(c.listen_address())) {
    return invalid("listen_address", "expected host:port, e.g. 127.0.0.1:7441");
  }
  if (!c.peer_listen_address().empty() &&
      !ValidHostPort(c.peer_listen_address())) {
    return invalid("peer_listen_address", "expected host:port");
  }
  if (!c.metrics_listen_address().empty()) {
    if (!ValidHostPort(c.metrics_listen_address())) {
      return invalid("metrics_listen_address",
                     "expected host:port, e.g. 127.0.0.1:9464");
    }
    // The endpoint speaks plain HTTP with no authentication: anyone who can
    // reach it reads the node's activity by peer.
    if (!IsLoopbackHostPort(c.metrics_listen_address())) {
      return invalid(
          "metrics_listen_address",
          "metrics are served over plain HTTP without authentication, so "
          "only a loopback address is accepted (127.0.0.1, [::1] or "
          "localhost, e.g. 127.0.0.1:9464); to scrape from another host, "
          "put a TLS-terminating, authenticating proxy on this host in "
          "front of it");
    }
  }
  // A manifest counts only under the operators' keys: without them a node
  // would have to take whatever file or peer it is given.
  if (!c.manifest_file().empty()) {
    if (c.federation_verifier_keys().empty()) {
      return invalid("manifest_file",
                     "federation_verifier_keys: required with a manifest "
                     "(the operators' keys, from havenctl federation keygen)");
    }
    auto trust =
        client::ParseManifestTrust({c.federation_verifier_keys().begin(),
                                    c.federation_verifier_keys().end()},
                                   c.federation_signatures_required());
    if (!trust.ok()) {
      return invalid("federation_verifier_keys",
                     std::string(trust.status().message()));
    }
  }
  if (c.data_dir().empty()) return missing("data_dir");
  // An empty master_key_file means the key comes as a systemd credential
  // (crypto::LoadNodeMasterKey), so it is never on plain disk.
  if (!c.has_tls()) return missing("tls");
  if (c.tls().cert_file().empty()) return missing("tls.cert_file");
  if (c.tls().key_file().empty()) return missing("tls.key_file");
  if (c.tls().ca_file().empty()) return missing("tls.ca_file");
  // One token, one principal: with two sharing a token the last would
  // silently act for both, and with two sharing a name the audit log could
  // not tell who acted. Messages name indexes, never the hash.
  std::map<std::string, int> index_by_token;
  std::map<std::string, int> index_by_name;
  for (int i = 0; i < c.principals_size(); ++i) {
    const auto& p = c.principals(i);
    std::string field = absl::StrCat("principals[", i, "]");
    if (p.name().empty()) return invalid(field, "name: required");
    if (p.role() == haven::v1::ROLE_UNSPECIFIED) {
      return invalid(field,
                     "role: required (CASEWORKER, ADVOCATE, AUDITOR "
                     "or ADMIN)");
    }
    if (!IsLowerHex(p.token_sha256(), 64)) {
      return invalid(field,
                     "token_sha256: expected 64 lower-case hex characters "
                     "(the SHA-256 of the token, never the token)");
    }
    if (auto [it, added] = index_by_name.emplace(p.name(), i); !added) {
      return invalid(
          field, absl::StrCat("name: already used by principals[", it->second,
                              "]; give each principal its own name"));
    }
    if (auto [it, added] = index_by_token.emplace(p.token_sha256(), i);
        !added) {
      return invalid(
          field,
          absl::StrCat("token_sha256: the same as principals[", it->second,
                       "]'s; give each principal its own token"));
    }
  }

  // Personal sessions (auth.proto): 0 takes the default.
  {
    const uint32_t idle =
        c.session_idle_seconds() > 0 ? c.session_idle_seconds() : 900;
    const uint32_t max =
        c.session_max_seconds() > 0 ? c.session_max_seconds() : 28800;
    if (idle > max) {
      return invalid("session_idle_seconds",
                     absl::StrCat("an idle limit of ", idle,
                                  " s is longer than the session's maximum (",
                                  max, " s, session_max_seconds)"));
    }
  }

  // Resolve paths relative to the config file.
  fs::path base = absolute_path.parent_path();
  c.set_data_dir(Absolute(base, c.data_dir()));
  c.set_master_key_file(Absolute(base, c.master_key_file()));
  c.set_manifest_file(Absolute(base, c.manifest_file()));
  c.set_policy_file(Absolute(base, c.policy_file()));
  auto* tls = c.mutable_tls();
  tls->set_cert_file(Absolute(base, tls->cert_file()));
  tls->set_key_file(Absolute(base, tls->key_file()));
  tls->set_ca_file(Absolute(base, tls->ca_file()));
  return loaded;
}

absl::Status CheckConfigFiles(const LoadedConfig& loaded) {
  const haven::v1::NodeConfig& c = loaded.config;
  auto fail = [&](const std::string& field, const std::string& path,
                  const std::string& why) {
    return absl::FailedPreconditionError(
        absl::StrCat(loaded.Where(field), ": ", path, " ", why));
  };
  std::error_code ec;
  if (!fs::exists(c.data_dir(), ec)) {
    return fail("data_dir", c.data_dir(),
                "does not exist (create it, or run havend --init)");
  }
  if (!fs::is_directory(c.data_dir(), ec)) {
    return fail("data_dir", c.data_dir(), "is not a directory");
  }
  // Checked on the mode bits as well as with access(2): root passes
  // access(2) whatever the mode, but a data dir its owner cannot use is a
  // mistake to report, not to work around.
  struct stat st {};
  if (stat(c.data_dir().c_str(), &st) != 0 ||
      (st.st_mode & S_IRWXU) != S_IRWXU ||
      access(c.data_dir().c_str(), R_OK | W_OK | X_OK) != 0) {
    return fail("data_dir", c.data_dir(),
                absl::StrCat("is not readable and writable by this user (mode ",
                             absl::StrFormat("%04o", st.st_mode & 07777), ")"));
  }
  if (st.st_uid != geteuid()) {
    return fail("data_dir", c.data_dir(),
                "is owned by another user; the node must own its data dir");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return fail("data_dir", c.data_dir(),
                absl::StrCat("is accessible by group or others (mode ",
                             absl::StrFormat("%04o", st.st_mode & 07777),
                             "); run chmod 700"));
  }
  auto check_readable = [&](const std::string& field,
                            const std::string& path) -> absl::Status {
    if (path.empty()) return absl::OkStatus();
    if (!fs::exists(path, ec)) {
      return fail(field, path, "does not exist");
    }
    if (!fs::is_regular_file(path, ec)) {
      return fail(field, path, "is not a regular file");
    }
    if (access(path.c_str(), R_OK) != 0) {
      return fail(field, path, "is not readable by this user");
    }
    return absl::OkStatus();
  };
  for (const auto& [field, path] :
       std::vector<std::pair<std::string, std::string>>{
           {"master_key_file", c.master_key_file()},
           {"tls.cert_file", c.tls().cert_file()},
           {"tls.key_file", c.tls().key_file()},
           {"tls.ca_file", c.tls().ca_file()},
           {"manifest_file", c.manifest_file()},
           {"policy_file", c.policy_file()}}) {
    if (absl::Status s = check_readable(field, path); !s.ok()) return s;
  }
  // Whoever reads the TLS private key can act as this node to its peers, so
  // like the master key it must be the owner's alone.
  const std::string& key_file = c.tls().key_file();
  if (stat(key_file.c_str(), &st) != 0) {
    return fail("tls.key_file", key_file, "cannot be examined (stat failed)");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return fail("tls.key_file", key_file,
                absl::StrFormat("is accessible by group or others (mode %04o); "
                                "run chmod 600 %s",
                                st.st_mode & 07777, key_file));
  }
  return absl::OkStatus();
}

}  // namespace haven::server::node
