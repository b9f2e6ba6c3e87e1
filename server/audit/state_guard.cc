#include "server/audit/state_guard.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "haven/base/status_macros.h"

namespace haven::server::audit {
namespace {

using storage::Family;
using storage::WriteBatch;

constexpr size_t kDigestSize = 32;
constexpr absl::string_view kSummaryKey = "G";
constexpr absl::string_view kUndoKey = "U";
constexpr absl::string_view kSummaryPlace = "audit/G";
constexpr absl::string_view kUndoPlace = "audit/U";

void XorInto(std::string& digest, absl::string_view mac) {
  for (size_t i = 0; i < kDigestSize; ++i) digest[i] ^= mac[i];
}

void AppendU32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>(v >> shift));
  }
}

}  // namespace

std::string StateGuard::ValueMac(Family family, absl::string_view key,
                                 absl::string_view value) const {
  std::string data(1, static_cast<char>(family));
  AppendU32(static_cast<uint32_t>(key.size()), &data);
  absl::StrAppend(&data, key, value);
  return sealer_->Mac(data);
}

absl::StatusOr<std::unique_ptr<StateGuard>> StateGuard::Open(
    storage::Storage* storage, const crypto::StateSealer* sealer) {
  std::unique_ptr<StateGuard> guard(new StateGuard(storage, sealer));
  guard->digest_.assign(kDigestSize, '\0');
  for (Family family : {Family::kConsent, Family::kExchange}) {
    HAVEN_RETURN_IF_ERROR(storage->Scan(
        family, "", [&](absl::string_view key, absl::string_view value) {
          XorInto(guard->digest_, guard->ValueMac(family, key, value));
          return true;
        }));
  }
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> sealed,
                         storage->Get(Family::kAudit, kSummaryKey));
  if (sealed.has_value()) {
    HAVEN_ASSIGN_OR_RETURN(
        std::string plain,
        sealer->Open(kSummaryPlace, *sealed, "the stored state summary"));
    haven::v1::StateSummary summary;
    if (!summary.ParseFromString(plain) ||
        summary.digest().size() != kDigestSize) {
      return absl::DataLossError("the stored state summary is malformed");
    }
    guard->stored_ = std::move(summary);
  }
  return guard;
}

absl::StatusOr<std::string> StateGuard::Prepare(
    const std::vector<ActionState>& actions, uint64_t first_index,
    uint64_t end_index, WriteBatch* out) const {
  // Values as the commit goes along: each action's "before" is what the
  // actions ahead of it in this commit left.
  std::map<std::pair<Family, std::string>, std::optional<std::string>> now;
  auto current = [&](Family family, const std::string& key)
      -> absl::StatusOr<std::optional<std::string>> {
    auto it = now.find({family, key});
    if (it != now.end()) return it->second;
    return storage_->Get(family, key);
  };

  std::string digest = digest_;
  haven::v1::CommitUndo undo;
  undo.set_first_index(first_index);
  undo.set_end_index(end_index);
  for (const ActionState& action : actions) {
    haven::v1::UndoAction* undo_action = undo.add_actions();
    undo_action->set_first_index(action.first_index);
    undo_action->set_entry_count(action.entry_count);
    // One undo op per key: the value before the action's first touch.
    std::map<std::pair<Family, std::string>, bool> seen;
    for (const WriteBatch::Op& op : action.state->ops()) {
      HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> before,
                             current(op.family, op.key));
      if (!seen.emplace(std::make_pair(op.family, op.key), true).second) {
        // Already recorded for this action; only the digest moves.
      } else {
        haven::v1::UndoOp* u = undo_action->add_ops();
        u->set_family(static_cast<uint32_t>(op.family));
        u->set_key(op.key);
        if (action.irreversible ||
            (op.family == Family::kVault && !op.value.has_value())) {
          u->set_irreversible(true);
        } else if (before.has_value()) {
          u->set_value(*before);
        } else {
          u->set_absent(true);
        }
      }
      if (IsGuarded(op.family)) {
        if (before.has_value()) {
          XorInto(digest, ValueMac(op.family, op.key, *before));
        }
        if (op.value.has_value()) {
          XorInto(digest, ValueMac(op.family, op.key, *op.value));
        }
      }
      now[{op.family, op.key}] = op.value;
    }
    out->Append(*action.state);
  }
  haven::v1::StateSummary summary;
  summary.set_log_size(end_index);
  summary.set_digest(digest);
  out->Put(Family::kAudit, std::string(kUndoKey),
           sealer_->Seal(kUndoPlace, undo.SerializeAsString()));
  out->Put(Family::kAudit, std::string(kSummaryKey),
           sealer_->Seal(kSummaryPlace, summary.SerializeAsString()));
  return digest;
}

void StateGuard::Adopt(std::string digest, uint64_t log_size) {
  digest_ = std::move(digest);
  haven::v1::StateSummary summary;
  summary.set_log_size(log_size);
  summary.set_digest(digest_);
  stored_ = std::move(summary);
}

absl::StatusOr<StateGuard::Undo> StateGuard::LoadUndo(
    uint64_t first_index, uint64_t end_index) const {
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> sealed,
                         storage_->Get(Family::kAudit, kUndoKey));
  if (!sealed.has_value()) {
    return absl::DataLossError("the last commit's undo record is missing");
  }
  HAVEN_ASSIGN_OR_RETURN(
      std::string plain,
      sealer_->Open(kUndoPlace, *sealed, "the last commit's undo record"));
  haven::v1::CommitUndo undo;
  if (!undo.ParseFromString(plain)) {
    return absl::DataLossError("the last commit's undo record is malformed");
  }
  if (undo.first_index() != first_index || undo.end_index() != end_index) {
    return absl::DataLossError(absl::StrCat(
        "the last commit's undo record is of entries [", undo.first_index(),
        ", ", undo.end_index(), "), not [", first_index, ", ", end_index, ")"));
  }
  Undo result;
  // Latest action first, so that where two actions touched one key the
  // earliest "before" is what remains.
  for (int a = undo.actions_size() - 1; a >= 0; --a) {
    const haven::v1::UndoAction& action = undo.actions(a);
    bool irreversible = false;
    for (const haven::v1::UndoOp& op : action.ops()) {
      irreversible |= op.irreversible();
    }
    if (irreversible) {
      for (uint32_t i = 0; i < action.entry_count(); ++i) {
        result.kept.push_back(action.first_index() + i);
      }
      continue;
    }
    for (const haven::v1::UndoOp& op : action.ops()) {
      if (op.family() >= static_cast<uint32_t>(storage::kFamilyCount)) {
        return absl::DataLossError(
            "the last commit's undo record names an unknown family");
      }
      const auto family = static_cast<Family>(op.family());
      if (op.has_value()) {
        result.restore.Put(family, op.key(), op.value());
      } else {
        result.restore.Delete(family, op.key());
      }
    }
  }
  std::sort(result.kept.begin(), result.kept.end());
  return result;
}

}  // namespace haven::server::audit
