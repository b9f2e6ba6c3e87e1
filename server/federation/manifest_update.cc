#include "server/federation/manifest_update.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/verify/crypto.h"
#include "haven/base/hex.h"
#include "haven/base/status_macros.h"
#include "server/audit/action.h"
#include "server/node/event_log.h"

namespace haven::server::federation {
namespace {

using haven::v1::AuditEntry;

// One entry per membership change `after` makes (client::DiffManifests),
// each naming the member and the serial. `before` is null for a node's
// first manifest: every member joins.
std::vector<AuditEntry> MemberEntries(const Manifest* before,
                                      const Manifest& after) {
  using Kind = client::MemberChange::Kind;
  const std::string serial = absl::StrCat("serial ", after.serial());
  std::vector<AuditEntry> entries;
  for (const client::MemberChange& change : client::DiffManifests(
           before == nullptr ? nullptr : &before->proto(), after.proto())) {
    AuditEntry entry;
    entry.set_agency_id(change.agency_id);
    entry.set_detail(serial);
    switch (change.kind) {
      case Kind::kJoined:
        entry.set_kind(haven::v1::MEMBERSHIP_JOINED);
        if (!change.fields.empty()) entry.set_detail(serial + ", suspended");
        break;
      case Kind::kSuspended:
        entry.set_kind(haven::v1::MEMBERSHIP_SUSPENDED);
        break;
      case Kind::kReinstated:
        entry.set_kind(haven::v1::MEMBERSHIP_REINSTATED);
        break;
      case Kind::kRemoved:
        entry.set_kind(haven::v1::MEMBERSHIP_REMOVED);
        break;
      case Kind::kChanged:
        entry.set_kind(haven::v1::MEMBER_CHANGED);
        entry.set_detail(absl::StrCat(
            serial, ": ", absl::StrJoin(change.fields, ", "), " changed"));
        break;
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Manifest>> ManifestUpdater::ReloadFile(
    const std::string& principal) {
  absl::MutexLock lock(&mu_);
  return Apply(deps_.registry->Load(),
               Source{principal, "", "the manifest file"}, "");
}

absl::StatusOr<std::shared_ptr<const Manifest>> ManifestUpdater::OfferFromPeer(
    const std::string& peer, absl::string_view note) {
  const std::string note_sha256 = LowerHex(client::Sha256(note));
  absl::MutexLock lock(&mu_);
  // Heard of from two peers at once: the second offer is no news.
  std::shared_ptr<const Manifest> in_force = deps_.registry->current();
  if (in_force->note_sha256() == note_sha256) return in_force;
  const std::string source_name = absl::StrCat("from peer ", peer);
  return Apply(Manifest::OpenSigned(note, deps_.registry->trust(), source_name),
               Source{"havend", peer, absl::StrCat("peer ", peer)},
               note_sha256);
}

absl::Status ManifestUpdater::RecordStart() {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<const Manifest> now = deps_.registry->current();
  const std::shared_ptr<const Manifest>& kept =
      deps_.registry->applied_before_start();
  if (now->signed_note().empty() ||
      (kept != nullptr && kept->note_sha256() == now->note_sha256())) {
    return absl::OkStatus();
  }
  return CommitApplied(kept.get(), *now,
                       Source{"havend", "", "the manifest file, at start"});
}

absl::StatusOr<std::shared_ptr<const Manifest>> ManifestUpdater::Apply(
    absl::StatusOr<std::shared_ptr<const Manifest>> candidate,
    const Source& source, absl::string_view note_sha256) {
  if (!candidate.ok()) {
    // An unreadable file is no manifest to refuse: nothing to log.
    if (source.peer.empty() &&
        candidate.status().code() == absl::StatusCode::kFailedPrecondition) {
      return candidate.status();
    }
    return Refuse(candidate.status().message(), source, note_sha256);
  }
  std::shared_ptr<const Manifest> before = deps_.registry->current();
  const Manifest& after = **candidate;
  // Only a newer manifest of the same federation replaces the one in force:
  // an older copy put back would otherwise undo a suspension.
  if (!before->proto().federation().empty() &&
      after.proto().federation() != before->proto().federation()) {
    return Refuse(
        absl::StrCat("the manifest is of federation '",
                     after.proto().federation(), "', this node's is '",
                     before->proto().federation(), "'"),
        source, note_sha256);
  }
  if (after.serial() <= before->serial()) {
    return Refuse(absl::StrCat("manifest serial ", after.serial(),
                               " is not above the serial in force (",
                               before->serial(), ")"),
                  source, note_sha256);
  }
  HAVEN_RETURN_IF_ERROR(CommitApplied(before.get(), after, source));
  deps_.registry->Install(*candidate);
  node::LogEvent("manifest_applied",
                 {{"from", source.describe},
                  {"serial", absl::StrCat(after.serial())},
                  {"members", absl::StrCat(after.proto().members_size())}});
  return candidate;
}

absl::Status ManifestUpdater::CommitApplied(const Manifest* before,
                                            const Manifest& after,
                                            const Source& source) const {
  audit::Action action;
  AuditEntry applied;
  applied.set_kind(haven::v1::MANIFEST_APPLIED);
  applied.set_agency_id(source.peer);
  applied.set_detail(absl::StrCat(
      "manifest serial ", after.serial(), ", sha256 ", after.note_sha256(),
      ", ", after.proto().members_size(), " members, signed by ",
      absl::StrJoin(after.signers(), ", "), ", from ", source.describe));
  action.entries.push_back(
      deps_.audit->Stamped(std::move(applied), source.principal, ""));
  for (AuditEntry& entry : MemberEntries(before, after)) {
    action.entries.push_back(
        deps_.audit->Stamped(std::move(entry), source.principal, ""));
  }
  FederationRegistry::PersistTo(after, action.state);
  return deps_.audit->Commit(std::move(action)).status();
}

absl::Status ManifestUpdater::Refuse(absl::string_view reason,
                                     const Source& source,
                                     absl::string_view note_sha256) {
  absl::Status refused = absl::FailedPreconditionError(
      absl::StrCat(reason, "; the manifest in force stays"));
  if (!note_sha256.empty() && refused_.contains(note_sha256)) return refused;
  AuditEntry entry;
  entry.set_kind(haven::v1::MANIFEST_REFUSED);
  entry.set_agency_id(source.peer);
  entry.set_detail(absl::StrCat(reason, " (from ", source.describe, ")"));
  HAVEN_RETURN_IF_ERROR(
      deps_.audit->Record(std::move(entry), source.principal, "").status());
  if (!note_sha256.empty()) {
    if (refused_order_.size() == kMaxRememberedRefusals) {
      refused_.erase(refused_order_.front());
      refused_order_.pop_front();
    }
    refused_.insert(std::string(note_sha256));
    refused_order_.emplace_back(note_sha256);
  }
  node::LogEvent("manifest_refused",
                 {{"from", source.describe}, {"reason", std::string(reason)}});
  return refused;
}

}  // namespace haven::server::federation
