// SHA-256, written once for every part of Haven: the server's and the
// client's crypto wrappers expose it, and the policy library names policy
// versions with it. Pure function of its input; thread-safe.
#ifndef HAVEN_BASE_SHA256_H_
#define HAVEN_BASE_SHA256_H_

#include <sodium.h>

#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "haven/base/hex.h"

namespace haven {

inline constexpr size_t kSha256Bytes = crypto_hash_sha256_BYTES;

// Raw 32-byte SHA-256 of `data`.
inline std::string Sha256(absl::string_view data) {
  // sodium_init is idempotent and thread-safe; without it libsodium may not
  // be used at all, so a failure stops the process rather than hash wrongly.
  static const bool initialized = sodium_init() >= 0;
  if (!initialized) std::abort();
  std::string out(kSha256Bytes, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(data.data()),
                     data.size());
  return out;
}

// Lower-case hex SHA-256 of `data`.
inline std::string Sha256Hex(absl::string_view data) {
  return LowerHex(Sha256(data));
}

}  // namespace haven

#endif  // HAVEN_BASE_SHA256_H_
