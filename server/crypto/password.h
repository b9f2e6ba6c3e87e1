// Password hashing for personal accounts: Argon2id through libsodium's
// crypto_pwhash_str, whose output string carries the algorithm, its
// parameters and a random salt, so a hash made with one cost still
// verifies after the node's cost changes. Passwords are never stored,
// logged or kept after the call. Thread-safe.
#ifndef HAVEN_SERVER_CRYPTO_PASSWORD_H_
#define HAVEN_SERVER_CRYPTO_PASSWORD_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace haven::server::crypto {

// Argon2id's work factors (libsodium's opslimit and memlimit).
struct PasswordCost {
  uint64_t opslimit = 0;
  size_t memlimit = 0;

  // What havend uses: 3 passes over 64 MiB (libsodium's MODERATE passes
  // with a quarter of its memory), about 0.2 s on one core here. Sign-ins
  // run one at a time (server/auth/accounts.h), so the memory is bounded.
  static PasswordCost Production();
  // libsodium's INTERACTIVE (2 passes over 64 MiB):
  // for tests, which hash many passwords.
  static PasswordCost Interactive();
};

// The Argon2id string of `password`. RESOURCE_EXHAUSTED if the memory
// cannot be had.
absl::StatusOr<std::string> HashPassword(absl::string_view password,
                                         const PasswordCost& cost);

// Whether `password` matches `hash` (a HashPassword string). False for a
// malformed hash. Takes the hash's own cost whether or not it matches.
bool VerifyPassword(absl::string_view hash, absl::string_view password);

}  // namespace haven::server::crypto

#endif  // HAVEN_SERVER_CRYPTO_PASSWORD_H_
