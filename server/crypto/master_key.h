// The node's master key: 32 random bytes from which every key-encryption key
// is derived. It lives only in SecretBytes and in one file on disk.
//
// File format: 64 hex characters, optionally followed by one newline. The
// file must be a regular file owned by the user running the node and
// readable by nobody else (mode 0600 or 0400); the node refuses any other.
// All functions are thread-safe.
#ifndef HAVEN_SERVER_CRYPTO_MASTER_KEY_H_
#define HAVEN_SERVER_CRYPTO_MASTER_KEY_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/crypto/secret_bytes.h"

namespace haven::server::crypto {

inline constexpr size_t kMasterKeySize = 32;

// Reads the master key from `path`. FAILED_PRECONDITION, naming the path and
// the reason, if the file is missing, not a regular file (symlinks are
// refused), not owned by the current user, or accessible by group or others
// (the message says which mode it has and to run chmod 600); also if its
// content is not 64 hex characters (the content is never echoed).
absl::StatusOr<SecretBytes> LoadMasterKeyFile(const std::string& path);

// The name of the systemd credential that carries the master key
// (LoadCredential=haven-master-key:FILE or LoadCredentialEncrypted=).
inline constexpr char kMasterKeyCredential[] = "haven-master-key";

// The node's master key: from `master_key_file` when the config names one,
// otherwise from the systemd credential kMasterKeyCredential in
// `credentials_directory` (the value of $CREDENTIALS_DIRECTORY, or null).
// A credential must be a regular file that "others" cannot read; systemd
// decides its owner. FAILED_PRECONDITION naming the source (never the key)
// when neither gives a key.
absl::StatusOr<SecretBytes> LoadNodeMasterKey(
    const std::string& master_key_file, const char* credentials_directory);

// Creates a new random master key in a new file at `path` with mode 0600,
// synced to disk, and returns it. Never overwrites: ALREADY_EXISTS if the
// path exists. FAILED_PRECONDITION if the file cannot be written.
absl::StatusOr<SecretBytes> CreateMasterKeyFile(const std::string& path);

// Reads the master key as 64 hex characters from environment variable `var`
// (for tests and development). FAILED_PRECONDITION if unset or malformed
// (the value is never echoed).
absl::StatusOr<SecretBytes> MasterKeyFromEnv(const std::string& var);

// Parses 64 hex characters, optionally followed by one "\n" (or "\r\n").
// INVALID_ARGUMENT without echoing the input if malformed.
absl::StatusOr<SecretBytes> ParseMasterKeyHex(absl::string_view text);

// Lower-case hex form of `key`, as written to a key file (no newline). The
// caller wipes the result (WipeString) when done.
std::string MasterKeyToHex(const SecretBytes& key);

}  // namespace haven::server::crypto

#endif  // HAVEN_SERVER_CRYPTO_MASTER_KEY_H_
