// One-time codes for personal accounts: HOTP (RFC 4226) and TOTP
// (RFC 6238) with HMAC-SHA-1, 6 digits and 30-second steps, the parameters
// every authenticator app supports; and RFC 4648 base32, the form of the
// secret in an otpauth:// URI.
//
// libsodium has no HMAC-SHA-1, so the HMAC here is OpenSSL's (linked into
// the server through gRPC already). SHA-1's collision weakness does not
// touch HMAC-SHA-1 as a PRF, which is all TOTP needs. Thread-safe.
#ifndef HAVEN_SERVER_CRYPTO_TOTP_H_
#define HAVEN_SERVER_CRYPTO_TOTP_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "absl/strings/string_view.h"
#include "server/crypto/secret_bytes.h"

namespace haven::server::crypto {

inline constexpr int64_t kTotpStepSeconds = 30;
inline constexpr int kTotpDigits = 6;
// 160 bits, RFC 4226's recommended HMAC-SHA-1 key size.
inline constexpr size_t kTotpSecretBytes = 20;

// The HOTP value of `counter` under `key`, as `digits` decimal digits
// (leading zeros kept). Requires 1 <= digits <= 9.
std::string HotpCode(std::span<const uint8_t> key, uint64_t counter,
                     int digits);

// The TOTP time step of `unix_seconds` (T0 = 0): floor(t / 30).
uint64_t TotpStep(int64_t unix_seconds);

// Checks `code` against the steps before, at and after `now_unix` (one
// step of clock drift either way), in constant time for each. Returns the
// step it matched, or nullopt if none did or the step matched is not later
// than `last_accepted_step` (a code is good once: a replayed or older code
// is refused).
std::optional<uint64_t> MatchTotp(const SecretBytes& secret,
                                  absl::string_view code, int64_t now_unix,
                                  uint64_t last_accepted_step);

// RFC 4648 base32, upper case, without padding (what otpauth URIs carry).
std::string Base32Encode(std::span<const uint8_t> bytes);

}  // namespace haven::server::crypto

#endif  // HAVEN_SERVER_CRYPTO_TOTP_H_
