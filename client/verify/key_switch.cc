#include "client/verify/key_switch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/verify/crypto.h"
#include "client/verify/signed_note.h"

namespace haven::client {

std::string KeySwitchMessage(absl::string_view old_verifier_key,
                             absl::string_view new_verifier_key) {
  return absl::StrCat("haven.v1.SigningKeySwitch\n", old_verifier_key, "\n",
                      new_verifier_key, "\n");
}

absl::Status VerifyKeySwitch(const haven::v1::SigningKeySwitch& handover,
                             absl::string_view origin) {
  auto old_key = ParseVerifierKey(handover.old_verifier_key());
  auto new_key = ParseVerifierKey(handover.new_verifier_key());
  if (!old_key.ok() || !new_key.ok()) {
    return absl::DataLossError(absl::StrCat(
        "a key switch names a malformed key: ",
        (!old_key.ok() ? old_key.status() : new_key.status()).message()));
  }
  if (old_key->name != origin || new_key->name != origin) {
    return absl::DataLossError(absl::StrCat(
        "a key switch names a key of another log than '", origin, "'"));
  }
  if (old_key->public_key == new_key->public_key) {
    return absl::DataLossError("a key switch names the same key twice");
  }
  if (!VerifyEd25519(old_key->public_key,
                     KeySwitchMessage(handover.old_verifier_key(),
                                      handover.new_verifier_key()),
                     handover.handover_signature())) {
    return absl::DataLossError(
        "a key switch is not signed by the key it replaces");
  }
  return absl::OkStatus();
}

absl::StatusOr<LogSigningKeys> LogSigningKeys::FromLeaves(
    const std::vector<std::string>& leaves, absl::string_view origin) {
  struct Found {
    uint64_t index;
    haven::v1::SigningKeySwitch handover;
  };
  std::vector<Found> found;
  std::vector<haven::v1::VoidedEntries> voids;
  for (uint64_t i = 0; i < leaves.size(); ++i) {
    haven::v1::AuditEntry entry;
    if (!entry.ParseFromString(leaves[i])) continue;
    if (entry.kind() == haven::v1::SIGNING_KEY_ROTATED) {
      found.push_back({i, entry.key_switch()});
    } else if (entry.kind() == haven::v1::WRITES_VOIDED) {
      haven::v1::VoidedEntries v = entry.voided();
      // A voided range names entries before the one voiding them.
      v.set_end(std::min<uint64_t>(v.end(), i));
      voids.push_back(std::move(v));
    }
  }
  LogSigningKeys keys;
  for (const Found& f : found) {
    const bool void_switch = std::any_of(
        voids.begin(), voids.end(), [&](const haven::v1::VoidedEntries& v) {
          return f.index >= v.first() && f.index < v.end() &&
                 std::find(v.kept().begin(), v.kept().end(), f.index) ==
                     v.kept().end();
        });
    if (void_switch) continue;
    auto bad = [&](absl::string_view why) {
      return absl::DataLossError(absl::StrCat("audit entry ", f.index,
                                              " (SIGNING_KEY_ROTATED): ", why));
    };
    if (absl::Status s = VerifyKeySwitch(f.handover, origin); !s.ok()) {
      return bad(s.message());
    }
    if (f.handover.tree_size() != f.index + 1) {
      return bad(absl::StrCat("names tree size ", f.handover.tree_size(),
                              " but completes the tree of ", f.index + 1));
    }
    if (!keys.switches_.empty() &&
        keys.switches_.back().new_key != f.handover.old_verifier_key()) {
      return bad("hands over from a key that was not in force");
    }
    keys.switches_.push_back({f.handover.tree_size(),
                              f.handover.old_verifier_key(),
                              f.handover.new_verifier_key()});
  }
  return keys;
}

std::string LogSigningKeys::KeyFor(uint64_t tree_size,
                                   absl::string_view only_key) const {
  if (switches_.empty()) return std::string(only_key);
  std::string key = switches_.front().old_key;
  for (const Switch& s : switches_) {
    if (tree_size > s.tree_size) key = s.new_key;
  }
  return key;
}

std::vector<std::string> LogSigningKeys::Keys() const {
  std::vector<std::string> keys;
  if (switches_.empty()) return keys;
  keys.push_back(switches_.front().old_key);
  for (const Switch& s : switches_) keys.push_back(s.new_key);
  return keys;
}

}  // namespace haven::client
