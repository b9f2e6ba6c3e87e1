// Lower-case hexadecimal, the one spelling Haven uses for digests, ids and
// key fingerprints in text (configs, manifests, logs, CLI output).
#ifndef HAVEN_BASE_HEX_H_
#define HAVEN_BASE_HEX_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace haven {

// Whether `text` is exactly `digits` characters of [0-9a-f].
inline bool IsLowerHex(absl::string_view text, size_t digits) {
  if (text.size() != digits) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Two lower-case digits for each byte of `bytes`.
inline std::string LowerHex(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (unsigned char b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

}  // namespace haven

#endif  // HAVEN_BASE_HEX_H_
