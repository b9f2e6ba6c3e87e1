// Authenticated encryption for the server: XChaCha20-Poly1305 (IETF) from
// libsodium, with a fresh random 24-byte nonce per message.
//
// A sealed message is nonce || ciphertext || tag. The associated data is not
// stored; the caller must present the same bytes to open. All functions are
// thread-safe (pure, or reading the OS CSPRNG).
#ifndef HAVEN_SERVER_CRYPTO_AEAD_H_
#define HAVEN_SERVER_CRYPTO_AEAD_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/crypto/secret_bytes.h"

namespace haven::server::crypto {

inline constexpr size_t kAeadKeySize = 32;
inline constexpr size_t kAeadNonceSize = 24;
inline constexpr size_t kAeadTagSize = 16;
// Bytes a sealed message adds to its plaintext.
inline constexpr size_t kAeadOverhead = kAeadNonceSize + kAeadTagSize;

// Encrypts `plaintext` under `key` (kAeadKeySize bytes), binding `ad`.
// INVALID_ARGUMENT if the key has the wrong size.
absl::StatusOr<std::string> AeadSeal(const SecretBytes& key,
                                     absl::string_view plaintext,
                                     absl::string_view ad);

// Decrypts a message made by AeadSeal with the same key and `ad`.
// DATA_LOSS ("authentication failed") if the message was altered, truncated,
// sealed under another key or with other associated data; no plaintext is
// returned in that case. INVALID_ARGUMENT if the key has the wrong size.
absl::StatusOr<std::string> AeadOpen(const SecretBytes& key,
                                     absl::string_view sealed,
                                     absl::string_view ad);

// As AeadOpen, for plaintexts that are themselves keys: the plaintext goes
// straight into guarded memory.
absl::StatusOr<SecretBytes> AeadOpenSecret(const SecretBytes& key,
                                           absl::string_view sealed,
                                           absl::string_view ad);

// As AeadSeal, for plaintexts that are keys.
absl::StatusOr<std::string> AeadSealSecret(const SecretBytes& key,
                                           const SecretBytes& plaintext,
                                           absl::string_view ad);

// Overwrites the bytes of `s` with zeros (not optimised away), then clears
// it. For transient plaintext buffers that cannot live in SecretBytes.
void WipeString(std::string& s);

}  // namespace haven::server::crypto

#endif  // HAVEN_SERVER_CRYPTO_AEAD_H_
