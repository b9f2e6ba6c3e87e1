// The trusted-state file of `havenctl audit verify`: per log origin, the
// verifier key pinned on first use and the last checkpoint verified, so
// that the next run checks the node's key is unchanged and its log extends
// what was verified before. Plain text, one "name value" a line.
// Thread-compatible; concurrent writers of one file: the last rename wins.
#ifndef HAVEN_CLIENT_CLI_TRUSTED_STATE_H_
#define HAVEN_CLIENT_CLI_TRUSTED_STATE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace haven::client::cli {

// What `verify` remembers between runs, per origin: the verifier key it
// pinned and the last checkpoint it verified.
struct TrustedState {
  std::string origin;
  std::string verifier_key;
  std::string checkpoint_note;
};

// $HOME/.haven/audit-<origin>.state (characters other than letters,
// digits, '.' and '-' as '_'). FAILED_PRECONDITION if HOME is not set.
absl::StatusOr<std::string> DefaultStatePath(absl::string_view origin);

// nullopt if the file does not exist; FAILED_PRECONDITION if it cannot be
// read or is malformed or incomplete.
absl::StatusOr<std::optional<TrustedState>> ReadState(const std::string& path);

// Writes the state via a temporary file in the same directory, synced and
// renamed into place, mode 0600. FAILED_PRECONDITION if it cannot.
absl::Status WriteState(const std::string& path, const TrustedState& state,
                        uint64_t tree_size);

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_TRUSTED_STATE_H_
