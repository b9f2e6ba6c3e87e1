#include "server/crypto/digest.h"

#include <sodium.h>

#include "absl/strings/escaping.h"
#include "server/crypto/sodium.h"

namespace haven::server::crypto {

std::string Sha256(absl::string_view data) {
  EnsureSodiumInitialized();
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(data.data()),
                     data.size());
  return out;
}

std::string Sha256Hex(absl::string_view data) {
  return absl::BytesToHexString(Sha256(data));
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace haven::server::crypto
