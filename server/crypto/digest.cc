#include "server/crypto/digest.h"

#include <sodium.h>

#include "haven/base/sha256.h"
#include "server/crypto/sodium.h"

namespace haven::server::crypto {

std::string Sha256(absl::string_view data) { return ::haven::Sha256(data); }

std::string Sha256Hex(absl::string_view data) {
  return ::haven::Sha256Hex(data);
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace haven::server::crypto
