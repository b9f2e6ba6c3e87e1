// Ed25519Signer: the node's signing key (audit checkpoints, consent receipts,
// signed disclosures).
//
// Holds the 32-byte seed in SecretBytes. Thread-safe: Sign is const and
// libsodium's signing is reentrant.
#ifndef HAVEN_SERVER_CRYPTO_ED25519_SIGNER_H_
#define HAVEN_SERVER_CRYPTO_ED25519_SIGNER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "server/crypto/secret_bytes.h"

namespace haven::server::crypto {

class Ed25519Signer {
 public:
  static constexpr size_t kSeedSize = 32;
  static constexpr size_t kPublicKeySize = 32;
  static constexpr size_t kSignatureSize = 64;

  // From a 32-byte seed (INVALID_ARGUMENT on any other size).
  static absl::StatusOr<std::unique_ptr<Ed25519Signer>> FromSeed(
      const SecretBytes& seed);

  // Detached signature over `message`.
  std::array<uint8_t, kSignatureSize> Sign(
      std::span<const uint8_t> message) const;
  std::string SignToString(std::string_view message) const;

  const std::array<uint8_t, kPublicKeySize>& public_key() const {
    return public_key_;
  }

 private:
  Ed25519Signer() : secret_key_(64) {}

  SecretBytes secret_key_;  // libsodium's 64-byte form: seed || public key
  std::array<uint8_t, kPublicKeySize> public_key_{};
};

}  // namespace haven::server::crypto

#endif  // HAVEN_SERVER_CRYPTO_ED25519_SIGNER_H_
