#include "server/crypto/ed25519_signer.h"

#include <sodium.h>

#include "absl/status/status.h"
#include "server/crypto/sodium.h"

namespace haven::server::crypto {

absl::StatusOr<std::unique_ptr<Ed25519Signer>> Ed25519Signer::FromSeed(
    const SecretBytes& seed) {
  EnsureSodiumInitialized();
  if (seed.size() != kSeedSize) {
    return absl::InvalidArgumentError("Ed25519 seed must be 32 bytes");
  }
  std::unique_ptr<Ed25519Signer> signer(new Ed25519Signer());
  if (crypto_sign_seed_keypair(signer->public_key_.data(),
                               signer->secret_key_.mutable_data(),
                               seed.data()) != 0) {
    return absl::InternalError("Ed25519 key derivation failed");
  }
  return signer;
}

std::array<uint8_t, Ed25519Signer::kSignatureSize> Ed25519Signer::Sign(
    std::span<const uint8_t> message) const {
  std::array<uint8_t, kSignatureSize> signature{};
  crypto_sign_detached(signature.data(), nullptr, message.data(),
                       message.size(), secret_key_.data());
  return signature;
}

std::string Ed25519Signer::SignToString(std::string_view message) const {
  auto signature = Sign(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(message.data()), message.size()));
  return std::string(signature.begin(), signature.end());
}

}  // namespace haven::server::crypto
