// The federation manifest: which agencies are members of the task force,
// their sector, endpoint, certificate fingerprint, signing key and status.
//
// Manifest is an immutable, validated snapshot. FederationRegistry holds the
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
#include "absl/synchronization/mutex.h"
#include "haven/v1/federation.pb.h"

namespace haven::server::federation {

class Manifest {
 public:
  // Parses text format; errors name "file:line:col" or the member and field.
  static absl::StatusOr<std::shared_ptr<const Manifest>> Parse(
      const std::string& text, const std::string& source_name);
  static absl::StatusOr<std::shared_ptr<const Manifest>> LoadFile(
      const std::string& path);

  // The member with this agency id, or nullptr.
  const haven::v1::Member* Find(const std::string& agency_id) const;
  const haven::v1::FederationManifest& proto() const { return proto_; }

 private:
  explicit Manifest(haven::v1::FederationManifest proto);

  haven::v1::FederationManifest proto_;
  std::map<std::string, int> index_;  // agency id -> position in proto_
};

// Agency ids whose membership differs between `before` and `after`: added,
// removed, or with another sector or status. In id order; at most the two
// manifests' member counts together.
std::vector<std::string> ChangedMembers(const Manifest& before,
                                        const Manifest& after);

class FederationRegistry {
 public:
  // `path` may be empty: then there is no federation and every peer is
  // refused.
  static absl::StatusOr<std::unique_ptr<FederationRegistry>> Create(
      const std::string& path);
  // A registry holding `manifest`, with no file behind it (Load and Reload
  // fail): for nodes built in process by tests and tools.
  static std::unique_ptr<FederationRegistry> ForManifest(
      std::shared_ptr<const Manifest> manifest);

  std::shared_ptr<const Manifest> current() const;
  // Re-reads the file. On error the current manifest stays in force.
  absl::StatusOr<std::shared_ptr<const Manifest>> Reload();
  // Reads and checks the file without putting it in force (so a caller can
  // log the change first), and puts a loaded manifest in force.
  absl::StatusOr<std::shared_ptr<const Manifest>> Load() const;
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
  explicit FederationRegistry(std::string path) : path_(std::move(path)) {}

  const std::string path_;
  InstallListener listener_;
  // Serialises Install (and its listener), so that listeners see the
  // manifests in the order they were installed.
  absl::Mutex install_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  std::shared_ptr<const Manifest> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace haven::server::federation

#endif  // HAVEN_SERVER_FEDERATION_MANIFEST_H_
