#include "server/crypto/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdlib>

#include "server/crypto/digest.h"

namespace haven::server::crypto {

std::string HotpCode(std::span<const uint8_t> key, uint64_t counter,
                     int digits) {
  if (digits < 1 || digits > 9) std::abort();
  std::array<uint8_t, 8> message;
  for (int i = 7; i >= 0; --i) {
    message[i] = static_cast<uint8_t>(counter & 0xff);
    counter >>= 8;
  }
  std::array<uint8_t, EVP_MAX_MD_SIZE> mac;
  unsigned int mac_size = 0;
  if (HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), message.data(),
           message.size(), mac.data(), &mac_size) == nullptr ||
      mac_size != 20) {
    // Only a broken OpenSSL gets here; nothing safe can be returned.
    std::abort();
  }
  // RFC 4226 section 5.3: dynamic truncation.
  const int offset = mac[19] & 0x0f;
  const uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                          (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                          (static_cast<uint32_t>(mac[offset + 2]) << 8) |
                          static_cast<uint32_t>(mac[offset + 3]);
  uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  uint32_t value = binary % modulus;
  std::string code(digits, '0');
  for (int i = digits - 1; i >= 0; --i) {
    code[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  OPENSSL_cleanse(mac.data(), mac.size());
  return code;
}

uint64_t TotpStep(int64_t unix_seconds) {
  if (unix_seconds < 0) return 0;
  return static_cast<uint64_t>(unix_seconds / kTotpStepSeconds);
}

std::optional<uint64_t> MatchTotp(const SecretBytes& secret,
                                  absl::string_view code, int64_t now_unix,
                                  uint64_t last_accepted_step) {
  const uint64_t now = TotpStep(now_unix);
  std::optional<uint64_t> matched;
  // Every candidate is computed and compared, whichever matches.
  for (uint64_t step = now == 0 ? 0 : now - 1; step <= now + 1; ++step) {
    std::string expected = HotpCode(secret.span(), step, kTotpDigits);
    if (ConstantTimeEquals(expected, code) && !matched.has_value()) {
      matched = step;
    }
  }
  if (!matched.has_value() || *matched <= last_accepted_step) {
    return std::nullopt;
  }
  return matched;
}

std::string Base32Encode(std::span<const uint8_t> bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 0x1f]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 0x1f]);
  return out;
}

}  // namespace haven::server::crypto
