// Ed25519Signer: the node's signing key (audit checkpoints, consent receipts,
// signed disclosures).
//
// Holds the key in SecretBytes. The key in force can be replaced
// (Replace, for a signing-key rotation): the modules that sign borrow one
// signer for the node's life, and each signature is by the key in force
// when it is made. A caller that names the key beside the signature (a
// signed note's key id, a receipt's key id) uses SignWithKey, so that the
// two always belong together even across a rotation.
//
// Thread-safe: signing takes a reference to the key in force under a lock
// and signs outside it; libsodium's signing is reentrant.
#ifndef HAVEN_SERVER_CRYPTO_ED25519_SIGNER_H_
#define HAVEN_SERVER_CRYPTO_ED25519_SIGNER_H_

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/crypto/secret_bytes.h"

namespace haven::server::crypto {

class Ed25519Signer {
 public:
  static constexpr size_t kSeedSize = 32;
  static constexpr size_t kPublicKeySize = 32;
  static constexpr size_t kSignatureSize = 64;

  using PublicKey = std::array<uint8_t, kPublicKeySize>;

  // A signature and the public key it verifies under.
  struct Signed {
    PublicKey public_key;
    std::string signature;
  };

  // From a 32-byte seed (INVALID_ARGUMENT on any other size).
  static absl::StatusOr<std::unique_ptr<Ed25519Signer>> FromSeed(
      const SecretBytes& seed);

  // Detached signature over `message` by the key in force.
  std::array<uint8_t, kSignatureSize> Sign(
      std::span<const uint8_t> message) const;
  std::string SignToString(std::string_view message) const;
  // As SignToString, with the public key of the key that signed.
  Signed SignWithKey(std::string_view message) const;

  // The public key of the key in force. The reference stays valid for the
  // signer's life (every public key it held is kept), though after a
  // Replace it names an earlier key.
  const PublicKey& public_key() const;

  // Makes the key of `seed` the one in force for every later signature
  // (INVALID_ARGUMENT on a seed that is not 32 bytes; the old key stays).
  absl::Status Replace(const SecretBytes& seed);

 private:
  // libsodium's 64-byte secret key (seed || public key), and its public
  // key in public_keys_.
  struct KeyPair {
    KeyPair() : secret_key(64) {}
    SecretBytes secret_key;
    const PublicKey* public_key = nullptr;
  };

  Ed25519Signer() = default;

  // Makes the key pair of `seed`, its public key appended to public_keys_.
  absl::StatusOr<std::shared_ptr<const KeyPair>> MakeKeyPair(
      const SecretBytes& seed);
  std::shared_ptr<const KeyPair> InForce() const;

  mutable absl::Mutex mu_;
  // Protected by mu_. Appended to only, so references stay valid.
  std::deque<PublicKey> public_keys_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const KeyPair> key_ ABSL_GUARDED_BY(mu_);
};

}  // namespace haven::server::crypto

#endif  // HAVEN_SERVER_CRYPTO_ED25519_SIGNER_H_
