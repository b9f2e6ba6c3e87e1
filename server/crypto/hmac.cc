#include "server/crypto/hmac.h"

#include <sodium.h>

#include "absl/strings/escaping.h"
#include "server/crypto/sodium.h"

namespace haven::server::crypto {

std::string HmacSha256(const SecretBytes& key, absl::string_view data) {
  EnsureSodiumInitialized();
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  crypto_auth_hmacsha256_update(
      &state, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&state,
                               reinterpret_cast<unsigned char*>(out.data()));
  sodium_memzero(&state, sizeof(state));
  return out;
}

std::string HmacSha256Hex(const SecretBytes& key, absl::string_view data) {
  return absl::BytesToHexString(HmacSha256(key, data));
}

}  // namespace haven::server::crypto
