#include "server/crypto/node_keys.h"

#include <sodium.h>

#include "server/crypto/sodium.h"

namespace haven::server::crypto {
namespace {

// Contexts are exactly crypto_kdf_CONTEXTBYTES (8) characters.
absl::StatusOr<SecretBytes> Derive(
    const SecretBytes& master_key,
    const char context[crypto_kdf_CONTEXTBYTES + 1]) {
  EnsureSodiumInitialized();
  if (master_key.size() != crypto_kdf_KEYBYTES) {
    return absl::InvalidArgumentError("master key must be 32 bytes");
  }
  SecretBytes out(32);
  if (crypto_kdf_derive_from_key(out.mutable_data(), out.size(), 1, context,
                                 master_key.data()) != 0) {
    return absl::InternalError("key derivation failed");
  }
  return out;
}

}  // namespace

absl::StatusOr<SecretBytes> DeriveSigningSeed(const SecretBytes& master_key) {
  return Derive(master_key, "havensig");
}

absl::StatusOr<SecretBytes> DerivePseudonymKey(const SecretBytes& master_key) {
  return Derive(master_key, "havenpsn");
}

absl::StatusOr<SecretBytes> DeriveStateSealKey(const SecretBytes& master_key) {
  return Derive(master_key, "havenstk");
}

absl::StatusOr<SecretBytes> DeriveStateMacKey(const SecretBytes& master_key) {
  return Derive(master_key, "havenstm");
}

}  // namespace haven::server::crypto
