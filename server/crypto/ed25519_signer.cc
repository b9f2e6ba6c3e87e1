#include "server/crypto/ed25519_signer.h"

#include <sodium.h>

#include "absl/status/status.h"
#include "server/crypto/sodium.h"

namespace haven::server::crypto {

absl::StatusOr<std::shared_ptr<const Ed25519Signer::KeyPair>>
Ed25519Signer::MakeKeyPair(const SecretBytes& seed) {
  EnsureSodiumInitialized();
  if (seed.size() != kSeedSize) {
    return absl::InvalidArgumentError("Ed25519 seed must be 32 bytes");
  }
  auto key = std::make_shared<KeyPair>();
  PublicKey public_key{};
  if (crypto_sign_seed_keypair(public_key.data(),
                               key->secret_key.mutable_data(),
                               seed.data()) != 0) {
    return absl::InternalError("Ed25519 key derivation failed");
  }
  absl::MutexLock lock(&mu_);
  public_keys_.push_back(public_key);
  key->public_key = &public_keys_.back();
  return std::shared_ptr<const KeyPair>(std::move(key));
}

absl::StatusOr<std::unique_ptr<Ed25519Signer>> Ed25519Signer::FromSeed(
    const SecretBytes& seed) {
  std::unique_ptr<Ed25519Signer> signer(new Ed25519Signer());
  auto key = signer->MakeKeyPair(seed);
  if (!key.ok()) return key.status();
  absl::MutexLock lock(&signer->mu_);
  signer->key_ = *std::move(key);
  return signer;
}

std::shared_ptr<const Ed25519Signer::KeyPair> Ed25519Signer::InForce() const {
  absl::MutexLock lock(&mu_);
  return key_;
}

absl::Status Ed25519Signer::Replace(const SecretBytes& seed) {
  auto key = MakeKeyPair(seed);
  if (!key.ok()) return key.status();
  absl::MutexLock lock(&mu_);
  key_ = *std::move(key);
  return absl::OkStatus();
}

const Ed25519Signer::PublicKey& Ed25519Signer::public_key() const {
  return *InForce()->public_key;
}

namespace {

std::array<uint8_t, Ed25519Signer::kSignatureSize> SignWith(
    const SecretBytes& secret_key, std::span<const uint8_t> message) {
  std::array<uint8_t, Ed25519Signer::kSignatureSize> signature{};
  crypto_sign_detached(signature.data(), nullptr, message.data(),
                       message.size(), secret_key.data());
  return signature;
}

std::span<const uint8_t> Bytes(std::string_view message) {
  return {reinterpret_cast<const uint8_t*>(message.data()), message.size()};
}

}  // namespace

std::array<uint8_t, Ed25519Signer::kSignatureSize> Ed25519Signer::Sign(
    std::span<const uint8_t> message) const {
  return SignWith(InForce()->secret_key, message);
}

std::string Ed25519Signer::SignToString(std::string_view message) const {
  auto signature = Sign(Bytes(message));
  return std::string(signature.begin(), signature.end());
}

Ed25519Signer::Signed Ed25519Signer::SignWithKey(
    std::string_view message) const {
  std::shared_ptr<const KeyPair> key = InForce();
  auto signature = SignWith(key->secret_key, Bytes(message));
  return {*key->public_key, std::string(signature.begin(), signature.end())};
}

}  // namespace haven::server::crypto
