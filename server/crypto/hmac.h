// HMAC-SHA-256 under a node secret, for keyed pseudonyms (e.g. the audit
// log's subject pseudonym). Thread-safe.
#ifndef HAVEN_SERVER_CRYPTO_HMAC_H_
#define HAVEN_SERVER_CRYPTO_HMAC_H_

#include <string>

#include "absl/strings/string_view.h"
#include "server/crypto/secret_bytes.h"

namespace haven::server::crypto {

// Raw 32-byte HMAC-SHA-256 of `data` under `key` (any length).
std::string HmacSha256(const SecretBytes& key, absl::string_view data);
// Lower-case hex of HmacSha256.
std::string HmacSha256Hex(const SecretBytes& key, absl::string_view data);

}  // namespace haven::server::crypto

#endif  // HAVEN_SERVER_CRYPTO_HMAC_H_
