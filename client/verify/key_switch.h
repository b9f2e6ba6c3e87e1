// Signing-key rotation as a node's audit log records it
// (SIGNING_KEY_ROTATED entries, haven.v1.SigningKeySwitch), and how a
// verifier follows it from key to key.
//
// A switch names the old and the new verifier key and the tree size S it
// completes (the switch is entry S - 1): the old key signs the log's
// checkpoints of up to S entries, the new key every larger one. The old key
// also signs the switch itself (KeySwitchMessage), so a verifier that
// trusts only the old key can move to the new one, and one that trusts only
// the new key finds the old one in the log its checkpoints cover.
//
// Pure functions; thread-safe.
#ifndef HAVEN_CLIENT_VERIFY_KEY_SWITCH_H_
#define HAVEN_CLIENT_VERIFY_KEY_SWITCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "haven/v1/audit.pb.h"

namespace haven::client {

// The bytes the old key signs to hand over to the new one:
// "haven.v1.SigningKeySwitch\n" old "\n" new "\n".
std::string KeySwitchMessage(absl::string_view old_verifier_key,
                             absl::string_view new_verifier_key);

// OK if both keys parse as signed-note verifier keys named `origin`, differ,
// and `handover_signature` is the old key's signature of KeySwitchMessage.
// DATA_LOSS naming what is wrong otherwise.
absl::Status VerifyKeySwitch(const haven::v1::SigningKeySwitch& handover,
                             absl::string_view origin);

// The keys one log was signed with, in order, as its switches chain them.
class LogSigningKeys {
 public:
  // Follows the SIGNING_KEY_ROTATED entries among `leaves` (serialized
  // AuditEntry, index 0 first; leaves that are not entries are skipped:
  // the replay's hashes judge them). Each switch must verify
  // (VerifyKeySwitch), sit at index tree_size - 1, and hand over from the
  // key the switch before it handed to. A switch that a later
  // WRITES_VOIDED entry voids (and does not keep) never took effect and is
  // skipped. DATA_LOSS naming the entry otherwise.
  static absl::StatusOr<LogSigningKeys> FromLeaves(
      const std::vector<std::string>& leaves, absl::string_view origin);

  // Whether the log has a switch.
  bool rotated() const { return !switches_.empty(); }
  // The key that signs the checkpoints of `tree_size` entries; with no
  // switch, `only_key` (the one key the log has).
  std::string KeyFor(uint64_t tree_size, absl::string_view only_key) const;
  // Every key, oldest first; empty with no switch.
  std::vector<std::string> Keys() const;

 private:
  struct Switch {
    uint64_t tree_size;
    std::string old_key;
    std::string new_key;
  };
  std::vector<Switch> switches_;
};

}  // namespace haven::client

#endif  // HAVEN_CLIENT_VERIFY_KEY_SWITCH_H_
