// Keys a node derives from its master key besides KEKs: the Ed25519 signing
// seed (checkpoints, receipts, disclosures), the key of the subject
// pseudonyms in the audit log, and the keys sealing its state at rest. Each has
// its own libsodium KDF context, so knowing one tells nothing about another or
// about any KEK.
#ifndef HAVEN_SERVER_CRYPTO_NODE_KEYS_H_
#define HAVEN_SERVER_CRYPTO_NODE_KEYS_H_

#include "absl/status/statusor.h"
#include "server/crypto/secret_bytes.h"

namespace haven::server::crypto {

// 32-byte Ed25519 seed. INVALID_ARGUMENT unless the master key is 32 bytes.
absl::StatusOr<SecretBytes> DeriveSigningSeed(const SecretBytes& master_key);
// 32-byte HMAC-SHA-256 key for subject pseudonyms.
absl::StatusOr<SecretBytes> DerivePseudonymKey(const SecretBytes& master_key);
// 32-byte XChaCha20-Poly1305 key sealing the node's state at rest
// (StateSealer), and the HMAC-SHA-256 key of its digests.
absl::StatusOr<SecretBytes> DeriveStateSealKey(const SecretBytes& master_key);
absl::StatusOr<SecretBytes> DeriveStateMacKey(const SecretBytes& master_key);

}  // namespace haven::server::crypto

#endif  // HAVEN_SERVER_CRYPTO_NODE_KEYS_H_
