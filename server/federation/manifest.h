// The federation manifest: which agencies are members of the task force,
// their sector, endpoint, certificate fingerprint, signing key and status.
//
// Manifest is an immutable, validated snapshot (of a signed manifest whose
// signatures were checked, in a node). FederationRegistry holds the
// current one and swaps it atomically on reload, so a call sees either the
// old manifest or the new one, never a mix. FederationRegistry is
// thread-safe.
#ifndef HAVEN_SERVER_FEDERATION_MANIFEST_H_
#define HAVEN_SERVER_FEDERATION_MANIFEST_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "client/verify/signed_manifest.h"
#include "haven/v1/federation.pb.h"
#include "server/storage/storage.h"

namespace haven::server::federation {

class Manifest {
 public:
  // Unsigned text format, checked as a signed manifest's text is
  // (client::ParseManifestText): for manifests built in process by tests
  // and tools. A node only ever puts signed ones in force.
  static absl::StatusOr<std::shared_ptr<const Manifest>> Parse(
      const std::string& text, const std::string& source_name);
  // A signed manifest note, verified under `trust`
  // (client::VerifyManifestNote, whose errors it returns).
  static absl::StatusOr<std::shared_ptr<const Manifest>> OpenSigned(
      absl::string_view note, const client::ManifestTrust& trust,
      absl::string_view source_name);
  // OpenSigned on a file's contents; FAILED_PRECONDITION if unreadable.
  static absl::StatusOr<std::shared_ptr<const Manifest>> LoadFile(
      const std::string& path, const client::ManifestTrust& trust);

  // The member with this agency id, or nullptr.
  const haven::v1::Member* Find(const std::string& agency_id) const;
  const haven::v1::FederationManifest& proto() const { return proto_; }
  uint64_t serial() const { return proto_.serial(); }
  // The signed note, verbatim (what GetManifest serves), and its hex
  // SHA-256; both empty for a manifest from Parse.
  const std::string& signed_note() const { return signed_note_; }
  const std::string& note_sha256() const { return note_sha256_; }
  // The operators whose signatures verified (empty for Parse).
  const std::vector<std::string>& signers() const { return signers_; }

 private:
  Manifest(haven::v1::FederationManifest proto, std::string signed_note,
           std::string note_sha256, std::vector<std::string> signers);

  haven::v1::FederationManifest proto_;
  std::string signed_note_;
  std::string note_sha256_;
  std::vector<std::string> signers_;
  std::map<std::string, int> index_;  // agency id -> position in proto_
};

// Agency ids whose membership differs between `before` and `after`: added,
// removed, or with another sector or status. In id order; at most the two
// manifests' member counts together.
std::vector<std::string> ChangedMembers(const Manifest& before,
                                        const Manifest& after);

// Holds the manifest in force. A node's registry starts from the newest of
// two verified manifests: the file's and the one it applied last (kept in
// its storage, see PersistTo), so that a restart keeps a manifest that
// gossip brought rather than going back to the file's. Thread-safe.
class FederationRegistry {
 public:
  struct Options {
    // Empty: no federation; every peer is refused.
    std::string path;
    // The operators' keys; required with a path.
    client::ManifestTrust trust;
    // Where the manifest last applied is kept; may be null (nothing kept).
    storage::Storage* storage = nullptr;
  };
  // FAILED_PRECONDITION if the file or the kept manifest cannot be used:
  // unreadable, badly signed (the kept one is then set aside with an event
  // log line, since the file's still verifies), or of another federation
  // than the kept one.
  static absl::StatusOr<std::unique_ptr<FederationRegistry>> Create(
      Options options);
  // A registry holding `manifest`, with no file behind it (Load fails): for
  // nodes built in process by tests and tools.
  static std::unique_ptr<FederationRegistry> ForManifest(
      std::shared_ptr<const Manifest> manifest);

  std::shared_ptr<const Manifest> current() const;
  // The manifest this node had applied before it started (kept in its
  // storage), or nullptr: what the one it started with replaced, for the
  // log (ManifestUpdater::RecordStart).
  const std::shared_ptr<const Manifest>& applied_before_start() const {
    return applied_before_start_;
  }
  // Reads and verifies the file without putting it in force (so that a
  // caller can compare and log first).
  absl::StatusOr<std::shared_ptr<const Manifest>> Load() const;
  const client::ManifestTrust& trust() const { return options_.trust; }

  // Adds to `batch` what makes `manifest` the one a restart starts from, so
  // that the caller commits it with the entries that log it.
  static void PersistTo(const Manifest& manifest, storage::WriteBatch& batch);

  // Installs serialise, and after each the install listener (if any) runs
  // in the caller's thread with the manifests before and after, before
  // Install returns.
  void Install(std::shared_ptr<const Manifest> manifest);

  // Called after each Install, e.g. to issue and withdraw what membership
  // changes mean for consents. Set once, before the registry is shared.
  using InstallListener =
      std::function<void(const std::shared_ptr<const Manifest>& before,
                         const std::shared_ptr<const Manifest>& after)>;
  void SetInstallListener(InstallListener listener) {
    listener_ = std::move(listener);
  }

 private:
  explicit FederationRegistry(Options options) : options_(std::move(options)) {}

  const Options options_;
  std::shared_ptr<const Manifest> applied_before_start_;
  InstallListener listener_;
  // Serialises Install (and its listener), so that listeners see the
  // manifests in the order they were installed.
  absl::Mutex install_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  std::shared_ptr<const Manifest> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace haven::server::federation

#endif  // HAVEN_SERVER_FEDERATION_MANIFEST_H_
