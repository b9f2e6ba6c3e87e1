// ManifestUpdater: the one way a federation manifest is put in force,
// whether an admin reloads the manifest file or a peer relays a newer one
// (gossip), in one order:
//   1. the candidate must verify (the operators' k-of-n signatures), be of
//      the same federation and carry a serial above the one in force;
//      otherwise it is refused, the refusal is logged (MANIFEST_REFUSED,
//      with the reason) and the manifest in force stays;
//   2. MANIFEST_APPLIED (serial, SHA-256 of the signed note, signers,
//      source) and one entry per member it adds, suspends, reinstates,
//      removes or otherwise changes are committed together with the
//      manifest itself (FederationRegistry::PersistTo): logged and kept in
//      one synced write, or neither;
//   3. it is installed, which runs the registry's listener (handles follow
//      membership) before the call returns.
// One update runs at a time, so two candidates cannot both pass the serial
// check. Thread-safe; borrows its Deps, which must outlive it.
#ifndef HAVEN_SERVER_FEDERATION_MANIFEST_UPDATE_H_
#define HAVEN_SERVER_FEDERATION_MANIFEST_UPDATE_H_

#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/audit/audit_recorder.h"
#include "server/federation/manifest.h"

namespace haven::server::federation {

class ManifestUpdater {
 public:
  struct Deps {
    FederationRegistry* registry = nullptr;
    const audit::AuditRecorder* audit = nullptr;
  };
  explicit ManifestUpdater(Deps deps) : deps_(deps) {}

  // An admin's `reload-manifest`: the registry's file, for `principal`.
  // Every refusal is logged. FAILED_PRECONDITION for a refused manifest
  // (the message says why), or the commit's error.
  absl::StatusOr<std::shared_ptr<const Manifest>> ReloadFile(
      const std::string& principal);

  // A signed manifest `peer` served (GetManifest). As ReloadFile, except
  // that the manifest already in force is no news (returned, not logged),
  // and that a refused note is logged once: a peer that serves it again every
  // round adds no entry (the newest kMaxRememberedRefusals notes refused
  // are remembered).
  absl::StatusOr<std::shared_ptr<const Manifest>> OfferFromPeer(
      const std::string& peer, absl::string_view note);

  // At start: if the manifest the node starts with is not the one it had
  // applied before (the file brought a newer serial, or none was kept
  // yet), it is logged and kept as step 2 says. Call once, before serving.
  absl::Status RecordStart();

  static constexpr size_t kMaxRememberedRefusals = 64;

 private:
  struct Source {
    std::string principal;  // who acted ("havend" for gossip)
    std::string peer;       // the relaying member; empty for the file
    std::string describe;   // "the manifest file", "peer legal-aid"
  };
  absl::StatusOr<std::shared_ptr<const Manifest>> Apply(
      absl::StatusOr<std::shared_ptr<const Manifest>> candidate,
      const Source& source, absl::string_view note_sha256)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Commits the entries of step 2 for `before` -> `after` with `after`.
  absl::Status CommitApplied(const Manifest* before, const Manifest& after,
                             const Source& source) const;
  // Logs a refusal (unless remembered, for a peer's) and returns the
  // FAILED_PRECONDITION status for the caller.
  absl::Status Refuse(absl::string_view reason, const Source& source,
                      absl::string_view note_sha256)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Deps deps_;
  absl::Mutex mu_;
  absl::flat_hash_set<std::string> refused_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> refused_order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace haven::server::federation

#endif  // HAVEN_SERVER_FEDERATION_MANIFEST_UPDATE_H_
