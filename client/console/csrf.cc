#include "client/console/csrf.h"

#include <sodium.h>

namespace haven::client::console {

absl::StatusOr<std::unique_ptr<CsrfGuard>> CsrfGuard::Create() {
  if (sodium_init() < 0) {
    return absl::FailedPreconditionError("libsodium failed to start");
  }
  return std::unique_ptr<CsrfGuard>(new CsrfGuard());
}

CsrfGuard::CsrfGuard()
    : key_(static_cast<unsigned char*>(
          sodium_malloc(crypto_auth_hmacsha256_KEYBYTES))) {
  crypto_auth_hmacsha256_keygen(key_);
}

CsrfGuard::~CsrfGuard() { sodium_free(key_); }

std::string CsrfGuard::TokenFor(std::string_view session_token) const {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(
      mac, reinterpret_cast<const unsigned char*>(session_token.data()),
      session_token.size(), key_);
  char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
  return std::string(hex, 2 * crypto_auth_hmacsha256_BYTES);
}

bool CsrfGuard::Check(std::string_view session_token,
                      std::string_view presented) const {
  const std::string expected = TokenFor(session_token);
  if (presented.size() != expected.size()) return false;
  return sodium_memcmp(expected.data(), presented.data(), expected.size()) == 0;
}

}  // namespace haven::client::console
