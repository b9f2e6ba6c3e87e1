#include "server/audit/rollback_guard.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/verify/signed_note.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"

namespace haven::server::audit {
namespace {

constexpr char kPrincipal[] = "havend";
// Acknowledged evidence kept, so that peers showing the same old checkpoint
// again are not taken for a new rollback.
constexpr int kMaxAcknowledged = 64;
constexpr size_t kMinReasonBytes = 10;

bool SameCheckpoint(const haven::v1::RollbackEvidence& e, uint64_t size,
                    const std::string& root) {
  return e.witnessed_size() == size && e.witnessed_root() == root;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RollbackGuard>> RollbackGuard::Open(Deps deps) {
  std::unique_ptr<RollbackGuard> guard(new RollbackGuard(std::move(deps)));
  storage::Storage& storage = *guard->deps_.storage;
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> restored,
                         storage.ReadSideFile(kRestoredSideFile));
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> rollback,
                         storage.ReadSideFile(kRollbackSideFile));
  absl::MutexLock lock(&guard->mu_);
  if (rollback.has_value() && !guard->record_.ParseFromString(*rollback)) {
    return absl::DataLossError(
        "the record of a detected rollback (side file haven-rollback) is "
        "corrupt; the node cannot tell whether it may serve peers");
  }
  if (restored.has_value()) {
    haven::v1::BackupInfo info;
    if (!info.ParseFromString(*restored)) {
      return absl::DataLossError(
          "the record of a restore (side file haven-restored) is corrupt");
    }
    if (!info.restore_logged()) {
      haven::v1::AuditEntry entry;
      entry.set_kind(haven::v1::RESTORED_FROM_BACKUP);
      entry.set_detail(absl::StrCat("backup taken at unix ", info.taken_unix(),
                                    " holding at least ", info.tree_size(),
                                    " log entries"));
      HAVEN_RETURN_IF_ERROR(
          guard->deps_.recorder->Record(entry, kPrincipal, "").status());
      info.set_restore_logged(true);
      HAVEN_RETURN_IF_ERROR(
          storage.WriteSideFile(kRestoredSideFile, info.SerializeAsString()));
    }
    guard->restored_ = std::move(info);
  }
  return guard;
}

absl::Status RollbackGuard::CheckServingPeers() const {
  absl::MutexLock lock(&mu_);
  if (!record_.unacknowledged().empty()) {
    const auto& first = record_.unacknowledged(0);
    return absl::FailedPreconditionError(absl::StrCat(
        "this node's audit log went back: peer '", first.agency_id(),
        "' witnessed it at ", first.witnessed_size(), " entries; ",
        first.detail(),
        ". It serves no peer until its admin acknowledges the rollback "
        "(havenctl admin acknowledge-rollback)"));
  }
  // A federation of one has no peer to wait for (and none to serve).
  if (restored_.has_value() && !Awaiting().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this node was restored from a backup and has not yet compared its "
        "log with what its peers witnessed (waiting for: ",
        absl::StrJoin(Awaiting(), ", "),
        "); it serves peers once they have answered, or once its admin "
        "acknowledges the restore (havenctl admin acknowledge-rollback)"));
  }
  return absl::OkStatus();
}

std::optional<haven::v1::RollbackEvidence> RollbackGuard::Compare(
    const std::string& peer, const client::CheckpointBody& body) const {
  const AuditLog& log = *deps_.recorder->log();
  const uint64_t own_size = log.Size();
  haven::v1::RollbackEvidence evidence;
  evidence.set_agency_id(peer);
  evidence.set_witnessed_size(body.tree_size);
  evidence.set_witnessed_root(body.root_hash);
  evidence.set_own_size(own_size);
  evidence.set_detected_unix(deps_.recorder->clock()->NowUnix());
  if (body.tree_size > own_size) {
    evidence.set_detail(
        absl::StrCat("this node's log now holds ", own_size,
                     " entries (restored from an older copy?)"));
    return evidence;
  }
  auto root = log.RootAt(body.tree_size);
  if (!root.ok() || *root != body.root_hash) {
    evidence.set_detail(
        "at that size this node's log has a different root (a fork)");
    return evidence;
  }
  return std::nullopt;
}

bool RollbackGuard::OnPeerAnswered(const std::string& peer,
                                   const haven::v1::Checkpoint* witnessed) {
  std::optional<haven::v1::RollbackEvidence> evidence;
  if (witnessed != nullptr && !witnessed->note().empty()) {
    if (witnessed->note().size() > limits::kMaxCheckpointNoteBytes) {
      return false;
    }
    const AuditLog& log = *deps_.recorder->log();
    // Signed by any key this node had: a peer may have witnessed it
    // before a signing-key rotation.
    auto body = log.VerifyOwnCheckpoint(witnessed->note());
    if (!body.ok()) return false;
    bool acknowledged = false;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& e : record_.acknowledged()) {
        acknowledged |= SameCheckpoint(e, body->tree_size, body->root_hash);
      }
    }
    if (!acknowledged) evidence = Compare(peer, *body);
  }

  absl::MutexLock lock(&mu_);
  if (evidence.has_value()) {
    for (const auto& e : record_.unacknowledged()) {
      // Already known: the peer shows the same checkpoint at every round.
      if (e.agency_id() == peer && SameCheckpoint(e, evidence->witnessed_size(),
                                                  evidence->witnessed_root())) {
        return true;
      }
    }
    haven::v1::RollbackRecord next = record_;
    // One piece of evidence per peer: its newest.
    auto* list = next.mutable_unacknowledged();
    list->erase(
        std::remove_if(list->begin(), list->end(),
                       [&](const auto& e) { return e.agency_id() == peer; }),
        list->end());
    *next.add_unacknowledged() = *evidence;
    // Kept before it is logged: a crash in between still refuses peers.
    if (!deps_.storage
             ->WriteSideFile(kRollbackSideFile, next.SerializeAsString())
             .ok()) {
      return true;  // the storage has stopped the node
    }
    record_ = std::move(next);
    haven::v1::AuditEntry entry;
    entry.set_kind(haven::v1::ROLLBACK_DETECTED);
    entry.set_agency_id(peer);
    entry.set_detail(absl::StrCat("witnessed at ", evidence->witnessed_size(),
                                  " entries; ", evidence->detail()));
    (void)deps_.recorder->Record(entry, kPrincipal, "");
    return true;
  }
  if (restored_.has_value()) {
    answered_.insert(peer);
    if (Awaiting().empty() && record_.unacknowledged().empty() &&
        deps_.storage->RemoveSideFile(kRestoredSideFile).ok()) {
      restored_.reset();
    }
  }
  return true;
}

std::vector<std::string> RollbackGuard::Awaiting() const {
  std::vector<std::string> awaiting;
  for (const std::string& peer : deps_.active_peers()) {
    if (!answered_.contains(peer)) awaiting.push_back(peer);
  }
  return awaiting;
}

absl::StatusOr<uint64_t> RollbackGuard::Acknowledge(
    const std::string& principal, const std::string& reason) {
  HAVEN_RETURN_IF_ERROR(CheckPlainText(reason, "reason",
                                       limits::kMaxJustificationBytes,
                                       /*required=*/true));
  if (reason.size() < kMinReasonBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "reason must say why, in at least ", kMinReasonBytes, " characters"));
  }
  absl::MutexLock lock(&mu_);
  if (record_.unacknowledged().empty() && !restored_.has_value()) {
    return absl::FailedPreconditionError(
        "nothing to acknowledge: the node serves its peers");
  }
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::ROLLBACK_ACKNOWLEDGED);
  entry.set_justification(reason);
  std::vector<std::string> what;
  for (const auto& e : record_.unacknowledged()) {
    what.push_back(absl::StrCat("peer ", e.agency_id(), " witnessed ",
                                e.witnessed_size(), " entries, log held ",
                                e.own_size()));
  }
  if (restored_.has_value()) {
    what.push_back(absl::StrCat("restore of a backup taken at unix ",
                                restored_->taken_unix()));
  }
  entry.set_detail(absl::StrJoin(what, "; "));
  HAVEN_ASSIGN_OR_RETURN(uint64_t index,
                         deps_.recorder->Record(entry, principal, ""));

  haven::v1::RollbackRecord next = record_;
  for (const auto& e : record_.unacknowledged()) *next.add_acknowledged() = e;
  next.clear_unacknowledged();
  if (next.acknowledged_size() > kMaxAcknowledged) {
    next.mutable_acknowledged()->DeleteSubrange(
        0, next.acknowledged_size() - kMaxAcknowledged);
  }
  HAVEN_RETURN_IF_ERROR(deps_.storage->WriteSideFile(kRollbackSideFile,
                                                     next.SerializeAsString()));
  record_ = std::move(next);
  HAVEN_RETURN_IF_ERROR(deps_.storage->RemoveSideFile(kRestoredSideFile));
  restored_.reset();
  return index;
}

haven::v1::PeerServingState RollbackGuard::State() const {
  haven::v1::PeerServingState state;
  absl::Status serving = CheckServingPeers();
  absl::MutexLock lock(&mu_);
  if (!record_.unacknowledged().empty()) {
    state.set_state(haven::v1::PeerServingState::ROLLED_BACK);
  } else if (restored_.has_value() && !Awaiting().empty()) {
    state.set_state(haven::v1::PeerServingState::AWAITING_PEERS);
    for (const std::string& peer : Awaiting()) state.add_awaiting(peer);
  } else {
    state.set_state(haven::v1::PeerServingState::SERVING);
  }
  state.set_detail(std::string(serving.message()));
  return state;
}

}  // namespace haven::server::audit
