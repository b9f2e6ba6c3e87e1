// SHA-256 for the server (token hashes, fingerprints). Keyed hashes for
// pseudonyms live beside it.
#ifndef HAVEN_SERVER_CRYPTO_DIGEST_H_
#define HAVEN_SERVER_CRYPTO_DIGEST_H_

#include <string>

#include "absl/strings/string_view.h"

namespace haven::server::crypto {

// Raw 32-byte SHA-256 of `data`.
std::string Sha256(absl::string_view data);
// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);
// Constant-time comparison of two equal-length strings (false otherwise).
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace haven::server::crypto

#endif  // HAVEN_SERVER_CRYPTO_DIGEST_H_
