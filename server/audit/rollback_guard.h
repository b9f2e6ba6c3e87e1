// RollbackGuard: keeps a node from serving its peers from a log that went
// back in time.
//
// A node restored from a backup, or whose data dir was put back from an
// older copy, has lost what happened since: a revocation, an erasure, a
// "do not share". Locally nothing shows it (the copy is consistent in
// itself), but its peers witnessed its log (witness.h) and remember how far
// it went. Each checkpoint exchange's answer carries this node's checkpoint
// as that peer last witnessed it, signed by this node's own key (so a peer
// cannot make one up); the guard compares it with the log:
//   - larger than the log, or a different root at that size: the log went
//     back (or forked). The evidence is kept in side file "rollback", a
//     ROLLBACK_DETECTED entry is logged, and peers are refused until an
//     admin acknowledges;
//   - otherwise the peer confirms the log.
// After a restore (side file "restored", written by RestoreBackup) peers
// are refused until every active peer has answered, or an admin
// acknowledges; the first start logs RESTORED_FROM_BACKUP.
//
// Acknowledge logs ROLLBACK_ACKNOWLEDGED with the admin's reason, then
// clears both side files: a crash between the two leaves the node refusing
// peers, never serving them unacknowledged.
//
// Only peers are refused: the local API keeps working, so that the admin
// can see the state, read the log and re-apply by hand what was lost.
// Thread-safe.
#ifndef HAVEN_SERVER_AUDIT_ROLLBACK_GUARD_H_
#define HAVEN_SERVER_AUDIT_ROLLBACK_GUARD_H_

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/verify/signed_note.h"
#include "haven/v1/admin.pb.h"
#include "haven/v1/audit.pb.h"
#include "server/audit/audit_recorder.h"
#include "server/storage/storage.h"

namespace haven::server::audit {

// Side file names (storage.h) a restore writes and the guard reads.
inline constexpr char kRestoredSideFile[] = "restored";
inline constexpr char kRollbackSideFile[] = "rollback";

class RollbackGuard {
 public:
  struct Deps {
    // All borrowed; must outlive the guard.
    storage::Storage* storage = nullptr;
    const AuditRecorder* recorder = nullptr;
    // The agencies whose answer confirms a restore: the manifest's active
    // members other than this node, read when needed.
    std::function<std::vector<std::string>()> active_peers;
  };

  // Reads the side files; after a restore, logs RESTORED_FROM_BACKUP once.
  // DATA_LOSS if a side file does not parse (nothing is served then).
  static absl::StatusOr<std::unique_ptr<RollbackGuard>> Open(Deps deps);

  // OK while peers may be served; FAILED_PRECONDITION saying why not.
  absl::Status CheckServingPeers() const;

  // `peer` answered a checkpoint exchange; `witnessed` is this node's
  // checkpoint as that peer last witnessed it (nullptr if never). A note
  // this node's key did not sign proves nothing and is ignored (returns
  // false). Returns whether it was taken into account.
  bool OnPeerAnswered(const std::string& peer,
                      const haven::v1::Checkpoint* witnessed);

  // Logs ROLLBACK_ACKNOWLEDGED by `principal` with `reason` (plain text, 10
  // to limits::kMaxJustificationBytes) and serves peers again; returns the
  // entry's index. FAILED_PRECONDITION if peers are being served already.
  absl::StatusOr<uint64_t> Acknowledge(const std::string& principal,
                                       const std::string& reason);

  haven::v1::PeerServingState State() const;

 private:
  explicit RollbackGuard(Deps deps) : deps_(std::move(deps)) {}
  // The evidence `witnessed` gives against the log, if any.
  std::optional<haven::v1::RollbackEvidence> Compare(
      const std::string& peer, const client::CheckpointBody& witnessed) const;
  // Peers still awaited after a restore.
  std::vector<std::string> Awaiting() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Deps deps_;
  mutable absl::Mutex mu_;
  std::optional<haven::v1::BackupInfo> restored_ ABSL_GUARDED_BY(mu_);
  haven::v1::RollbackRecord record_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> answered_ ABSL_GUARDED_BY(mu_);
};

}  // namespace haven::server::audit

#endif  // HAVEN_SERVER_AUDIT_ROLLBACK_GUARD_H_
