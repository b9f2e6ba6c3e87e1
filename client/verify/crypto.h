// The client's one wrapper around libsodium: SHA-256 and Ed25519 signature
// verification. Nothing here holds or uses a secret. Thread-safe.
#ifndef HAVEN_CLIENT_VERIFY_CRYPTO_H_
#define HAVEN_CLIENT_VERIFY_CRYPTO_H_

#include <string>

#include "absl/strings/string_view.h"

namespace haven::client {

inline constexpr size_t kSha256Size = 32;
inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

// Raw 32-byte SHA-256 of `data`.
std::string Sha256(absl::string_view data);

// True if `signature` (64 bytes) is a valid Ed25519 signature of `message`
// under `public_key` (32 bytes). False on any size mismatch.
bool VerifyEd25519(absl::string_view public_key, absl::string_view message,
                   absl::string_view signature);

}  // namespace haven::client

#endif  // HAVEN_CLIENT_VERIFY_CRYPTO_H_
