// Keys derived from the node's master key with libsodium's crypto_kdf
// (BLAKE2b keyed by the master key, an 8-byte context and a 64-bit subkey
// id). Distinct contexts keep the derived keys independent:
//
//   "havenkek", id v  ->  key-encryption key version v (v >= 1)
//   "havenkcv", id 1  ->  key that computes the key check value
//
// All functions are pure and thread-safe.
#ifndef HAVEN_SERVER_CRYPTO_KEY_DERIVATION_H_
#define HAVEN_SERVER_CRYPTO_KEY_DERIVATION_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "server/crypto/secret_bytes.h"

namespace haven::server::crypto {

inline constexpr size_t kKekSize = 32;
inline constexpr size_t kKeyCheckValueSize = 32;

// Key-encryption key version `version` (>= 1). INVALID_ARGUMENT if the master
// key is not kMasterKeySize bytes or version is 0.
absl::StatusOr<SecretBytes> DeriveKek(const SecretBytes& master_key,
                                      uint32_t version);

// A value that identifies the master key without revealing it: a keyed
// BLAKE2b, under a key derived for this purpose only, of a fixed constant.
// Stored beside the data so a node can tell a wrong master key from a
// corrupt database. INVALID_ARGUMENT on a master key of the wrong size.
absl::StatusOr<std::string> KeyCheckValue(const SecretBytes& master_key);

// `size` random bytes from the OS CSPRNG, for non-secret values (ids).
std::string RandomBytes(size_t size);

// `size` random bytes as lowercase hex: the form of every id the node makes.
// Ids are not secrets, so they live in ordinary memory (SecretBytes costs
// an mmap and mprotect per allocation, too much for a per-request id).
std::string RandomHexId(size_t size);

}  // namespace haven::server::crypto

#endif  // HAVEN_SERVER_CRYPTO_KEY_DERIVATION_H_
