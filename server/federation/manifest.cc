#include "server/federation/manifest.h"

#include <fstream>
#include <set>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "server/node/event_log.h"

namespace haven::server::federation {
namespace {

// Where a node keeps the signed manifest it applied last (public: signed
// by the operators, verified again at every start).
constexpr absl::string_view kAppliedManifestKey = "federation/manifest";

}  // namespace

Manifest::Manifest(haven::v1::FederationManifest proto, std::string signed_note,
                   std::string note_sha256, std::vector<std::string> signers)
    : proto_(std::move(proto)),
      signed_note_(std::move(signed_note)),
      note_sha256_(std::move(note_sha256)),
      signers_(std::move(signers)) {
  for (int i = 0; i < proto_.members_size(); ++i) {
    index_[proto_.members(i).agency_id()] = i;
  }
}

absl::StatusOr<std::shared_ptr<const Manifest>> Manifest::Parse(
    const std::string& text, const std::string& source_name) {
  HAVEN_ASSIGN_OR_RETURN(haven::v1::FederationManifest proto,
                         client::ParseManifestText(text, source_name));
  return std::shared_ptr<const Manifest>(
      new Manifest(std::move(proto), "", "", {}));
}

absl::StatusOr<std::shared_ptr<const Manifest>> Manifest::OpenSigned(
    absl::string_view note, const client::ManifestTrust& trust,
    absl::string_view source_name) {
  HAVEN_ASSIGN_OR_RETURN(client::VerifiedManifest verified,
                         client::VerifyManifestNote(note, trust, source_name));
  return std::shared_ptr<const Manifest>(new Manifest(
      std::move(verified.manifest), std::string(note),
      std::move(verified.note_sha256), std::move(verified.signers)));
}

absl::StatusOr<std::shared_ptr<const Manifest>> Manifest::LoadFile(
    const std::string& path, const client::ManifestTrust& trust) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read manifest file ", path));
  }
  // One byte over the limit is enough to refuse it.
  std::string note(limits::kMaxManifestNoteBytes + 1, '\0');
  in.read(note.data(), static_cast<std::streamsize>(note.size()));
  note.resize(static_cast<size_t>(in.gcount()));
  return OpenSigned(note, trust, path);
}

const haven::v1::Member* Manifest::Find(const std::string& agency_id) const {
  auto it = index_.find(agency_id);
  return it == index_.end() ? nullptr : &proto_.members(it->second);
}

absl::StatusOr<std::unique_ptr<FederationRegistry>> FederationRegistry::Create(
    Options options) {
  std::unique_ptr<FederationRegistry> registry(
      new FederationRegistry(std::move(options)));
  const Options& o = registry->options_;
  if (o.path.empty()) {
    HAVEN_ASSIGN_OR_RETURN(std::shared_ptr<const Manifest> empty,
                           Manifest::Parse("", "(no manifest)"));
    absl::MutexLock lock(&registry->mu_);
    registry->current_ = std::move(empty);
    return registry;
  }
  HAVEN_ASSIGN_OR_RETURN(std::shared_ptr<const Manifest> in_force,
                         Manifest::LoadFile(o.path, o.trust));
  if (o.storage != nullptr) {
    HAVEN_ASSIGN_OR_RETURN(
        std::optional<std::string> kept,
        o.storage->Get(storage::Family::kMeta, kAppliedManifestKey));
    if (kept.has_value()) {
      auto applied = Manifest::OpenSigned(*kept, o.trust, "(applied manifest)");
      if (!applied.ok()) {
        // The operators' keys changed in the config since: the file's
        // manifest, which verifies under the new ones, is the one to use.
        node::LogEvent("applied_manifest_set_aside",
                       {{"reason", std::string(applied.status().message())}});
      } else if ((*applied)->proto().federation() !=
                 in_force->proto().federation()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the data dir holds a manifest of federation '",
            (*applied)->proto().federation(), "' but ", o.path,
            " is of federation '", in_force->proto().federation(), "'"));
      } else {
        registry->applied_before_start_ = *applied;
        if ((*applied)->serial() > in_force->serial()) {
          in_force = *std::move(applied);
        }
      }
    }
  }
  absl::MutexLock lock(&registry->mu_);
  registry->current_ = std::move(in_force);
  return registry;
}

std::unique_ptr<FederationRegistry> FederationRegistry::ForManifest(
    std::shared_ptr<const Manifest> manifest) {
  std::unique_ptr<FederationRegistry> registry(
      new FederationRegistry(Options{}));
  registry->Install(std::move(manifest));
  return registry;
}

void FederationRegistry::PersistTo(const Manifest& manifest,
                                   storage::WriteBatch& batch) {
  batch.Put(storage::Family::kMeta, std::string(kAppliedManifestKey),
            manifest.signed_note());
}

std::shared_ptr<const Manifest> FederationRegistry::current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

absl::StatusOr<std::shared_ptr<const Manifest>> FederationRegistry::Load()
    const {
  if (options_.path.empty()) {
    return absl::FailedPreconditionError(
        "no manifest_file is configured on this node");
  }
  return Manifest::LoadFile(options_.path, options_.trust);
}

std::vector<std::string> ChangedMembers(const Manifest& before,
                                        const Manifest& after) {
  // Every change but one that leaves the sector alone (an endpoint, a
  // certificate, a key) moves handles.
  std::set<std::string> changed;
  for (const client::MemberChange& change :
       client::DiffManifests(&before.proto(), after.proto())) {
    if (change.kind != client::MemberChange::Kind::kChanged ||
        absl::c_linear_search(change.fields, "sector")) {
      changed.insert(change.agency_id);
    }
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

}  // namespace haven::server::federation
