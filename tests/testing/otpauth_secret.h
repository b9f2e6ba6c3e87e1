// The TOTP secret an authenticator app would read from an otpauth URI, so
// that tests can compute the codes a person's app would show.
#ifndef HAVEN_TESTS_TESTING_OTPAUTH_SECRET_H_
#define HAVEN_TESTS_TESTING_OTPAUTH_SECRET_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace haven::testing {

// The raw secret bytes of `uri`'s "secret=" parameter (RFC 4648 base32,
// upper case, unpadded, as the node writes it); "" without one.
inline std::string OtpauthSecret(absl::string_view uri) {
  const size_t at = uri.find("secret=");
  if (at == absl::string_view::npos) return "";
  const size_t start = at + 7;
  const absl::string_view text =
      uri.substr(start, uri.find('&', start) - start);
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int value = c >= 'A' && c <= 'Z' ? c - 'A' : c - '2' + 26;
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

}  // namespace haven::testing

#endif  // HAVEN_TESTS_TESTING_OTPAUTH_SECRET_H_
