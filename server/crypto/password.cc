#include "server/crypto/password.h"

#include <sodium.h>

#include "server/crypto/sodium.h"

namespace haven::server::crypto {

PasswordCost PasswordCost::Production() {
  return {crypto_pwhash_OPSLIMIT_MODERATE, 64u << 20};
}

PasswordCost PasswordCost::Interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE,
          crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

absl::StatusOr<std::string> HashPassword(absl::string_view password,
                                         const PasswordCost& cost) {
  EnsureSodiumInitialized();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            cost.opslimit, cost.memlimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError(
        "not enough memory to hash the password; try again");
  }
  return std::string(out);
}

bool VerifyPassword(absl::string_view hash, absl::string_view password) {
  EnsureSodiumInitialized();
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  // crypto_pwhash_str_verify reads a NUL-terminated string.
  char str[crypto_pwhash_STRBYTES] = {};
  hash.copy(str, hash.size());
  return crypto_pwhash_str_verify(str, password.data(), password.size()) == 0;
}

}  // namespace haven::server::crypto
