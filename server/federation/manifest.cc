#include "server/federation/manifest.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/verify/signed_note.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "haven/base/hex.h"
#include "haven/base/limits.h"

namespace haven::server::federation {
namespace {

class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  explicit FirstError(std::string file) : file_(std::move(file)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty()) {
      first_ =
          absl::StrCat(file_, ":", line + 1, ":", column + 1, ": ", message);
    }
  }
  const std::string& first() const { return first_; }

 private:
  std::string file_;
  std::string first_;
};


}  // namespace

Manifest::Manifest(haven::v1::FederationManifest proto)
    : proto_(std::move(proto)) {
  for (int i = 0; i < proto_.members_size(); ++i) {
    index_[proto_.members(i).agency_id()] = i;
  }
}

absl::StatusOr<std::shared_ptr<const Manifest>> Manifest::Parse(
    const std::string& text, const std::string& source_name) {
  haven::v1::FederationManifest proto;
  google::protobuf::TextFormat::Parser parser;
  FirstError errors(source_name);
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &proto)) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed manifest: ", errors.first()));
  }
  if (static_cast<size_t>(proto.members_size()) > limits::kMaxManifestMembers) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid manifest ", source_name, ": more than ",
                     limits::kMaxManifestMembers, " members"));
  }
  std::set<std::string> ids;
  std::set<std::string> fingerprints;
  for (int i = 0; i < proto.members_size(); ++i) {
    const haven::v1::Member& m = proto.members(i);
    auto bad = [&](const std::string& field, const std::string& why) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid manifest ", source_name, ": members[", i, "] (",
                       m.agency_id().empty() ? "no id" : m.agency_id(), ") ",
                       field, ": ", why));
    };
    if (m.agency_id().empty()) return bad("agency_id", "required");
    if (!ids.insert(m.agency_id()).second) return bad("agency_id", "duplicate");
    if (m.sector() == haven::v1::SECTOR_UNSPECIFIED) {
      return bad("sector", "required");
    }
    if (m.status() == haven::v1::MEMBER_STATUS_UNSPECIFIED) {
      return bad("status", "required (MEMBER_ACTIVE or MEMBER_SUSPENDED)");
    }
    size_t colon = m.endpoint().rfind(':');
    int port = 0;
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(m.endpoint().substr(colon + 1), &port) || port <= 0 ||
        port > 65535) {
      return bad("endpoint", "expected host:port");
    }
    if (!IsLowerHex(m.cert_sha256(), 64)) {
      return bad("cert_sha256",
                 "expected the certificate's SHA-256 as 64 lower-case hex "
                 "characters");
    }
    if (!fingerprints.insert(m.cert_sha256()).second) {
      return bad("cert_sha256", "same certificate as another member");
    }
    // During a signing-key rotation peers accept this key too: it must be a
    // key of this member's log, not one that could pass for another's.
    if (!m.next_verifier_key().empty()) {
      auto next = client::ParseVerifierKey(m.next_verifier_key());
      if (!next.ok()) return bad("next_verifier_key", next.status().ToString());
      if (next->name != client::LogOrigin(m.agency_id())) {
        return bad(
            "next_verifier_key",
            absl::StrCat("must be named ", client::LogOrigin(m.agency_id())));
      }
      if (m.next_verifier_key() == m.verifier_key()) {
        return bad("next_verifier_key", "same as verifier_key");
      }
    }
  }
  return std::shared_ptr<const Manifest>(new Manifest(std::move(proto)));
}

absl::StatusOr<std::shared_ptr<const Manifest>> Manifest::LoadFile(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read manifest file ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

const haven::v1::Member* Manifest::Find(const std::string& agency_id) const {
  auto it = index_.find(agency_id);
  return it == index_.end() ? nullptr : &proto_.members(it->second);
}

absl::StatusOr<std::unique_ptr<FederationRegistry>> FederationRegistry::Create(
    const std::string& path) {
  std::unique_ptr<FederationRegistry> registry(new FederationRegistry(path));
  if (path.empty()) {
    auto empty = Manifest::Parse("", "(no manifest)");
    if (!empty.ok()) return empty.status();
    absl::MutexLock lock(&registry->mu_);
    registry->current_ = *empty;
    return registry;
  }
  auto loaded = Manifest::LoadFile(path);
  if (!loaded.ok()) return loaded.status();
  absl::MutexLock lock(&registry->mu_);
  registry->current_ = *loaded;
  return registry;
}

std::unique_ptr<FederationRegistry> FederationRegistry::ForManifest(
    std::shared_ptr<const Manifest> manifest) {
  std::unique_ptr<FederationRegistry> registry(new FederationRegistry(""));
  registry->Install(std::move(manifest));
  return registry;
}

std::shared_ptr<const Manifest> FederationRegistry::current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

absl::StatusOr<std::shared_ptr<const Manifest>> FederationRegistry::Load()
    const {
  if (path_.empty()) {
    return absl::FailedPreconditionError(
        "no manifest_file is configured on this node");
  }
  return Manifest::LoadFile(path_);
}

std::vector<std::string> ChangedMembers(const Manifest& before,
                                        const Manifest& after) {
  std::set<std::string> changed;
  for (const haven::v1::Member& old : before.proto().members()) {
    const haven::v1::Member* now = after.Find(old.agency_id());
    if (now == nullptr || now->sector() != old.sector() ||
        now->status() != old.status()) {
      changed.insert(old.agency_id());
    }
  }
  for (const haven::v1::Member& now : after.proto().members()) {
    if (before.Find(now.agency_id()) == nullptr)
      changed.insert(now.agency_id());
  }
  return std::vector<std::string>(changed.begin(), changed.end());
}

void FederationRegistry::Install(std::shared_ptr<const Manifest> manifest) {
  absl::MutexLock install(&install_mu_);
  std::shared_ptr<const Manifest> before;
  {
    absl::MutexLock lock(&mu_);
    before = std::move(current_);
    current_ = manifest;
  }
  if (listener_ && before != nullptr) listener_(before, manifest);
}

absl::StatusOr<std::shared_ptr<const Manifest>> FederationRegistry::Reload() {
  auto loaded = Load();
  if (!loaded.ok()) return loaded.status();
  Install(*loaded);
  return *loaded;
}

}  // namespace haven::server::federation
