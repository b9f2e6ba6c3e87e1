// StateSealer: seals the node's state at rest (consents, refusals, use
// counts, handles, the peer outbox, commit records) and keys the digests
// that make a deleted or rolled-back value visible.
//
// A sealed value is 0x01 (the format and key version) followed by an
// XChaCha20-Poly1305 box whose associated data is the value's place: the
// caller passes the family and key it is stored under, so a value copied to
// another key, or sealed by another node, does not open. Both keys are
// derived from the master key (node_keys.h). Immutable and thread-safe.
#ifndef HAVEN_SERVER_CRYPTO_STATE_SEALER_H_
#define HAVEN_SERVER_CRYPTO_STATE_SEALER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/crypto/secret_bytes.h"

namespace haven::server::crypto {

class StateSealer {
 public:
  // INVALID_ARGUMENT unless the master key is 32 bytes.
  static absl::StatusOr<std::unique_ptr<StateSealer>> Create(
      const SecretBytes& master_key);

  // `place` names where the value is stored (e.g. family name and key).
  std::string Seal(absl::string_view place, absl::string_view plaintext) const;
  // DATA_LOSS "<what> failed authentication (stored data altered, moved or
  // corrupt)" if the bytes were not sealed by this node for `place`.
  absl::StatusOr<std::string> Open(absl::string_view place,
                                   absl::string_view sealed,
                                   absl::string_view what) const;
  // 32-byte HMAC-SHA-256 of `data` under the digest key.
  std::string Mac(absl::string_view data) const;

 private:
  StateSealer(SecretBytes seal_key, SecretBytes mac_key)
      : seal_key_(std::move(seal_key)), mac_key_(std::move(mac_key)) {}

  const SecretBytes seal_key_;
  const SecretBytes mac_key_;
};

}  // namespace haven::server::crypto

#endif  // HAVEN_SERVER_CRYPTO_STATE_SEALER_H_
