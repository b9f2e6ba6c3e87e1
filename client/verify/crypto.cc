#include "client/verify/crypto.h"

#include <sodium.h>

#include <cstdlib>

#include "haven/base/sha256.h"

namespace haven::client {
namespace {

void EnsureSodium() {
  static const bool initialized = [] { return sodium_init() >= 0; }();
  // Without libsodium nothing can be verified; refusing to run is the only
  // safe answer.
  if (!initialized) std::abort();
}

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string Sha256(absl::string_view data) { return ::haven::Sha256(data); }

bool VerifyEd25519(absl::string_view public_key, absl::string_view message,
                   absl::string_view signature) {
  EnsureSodium();
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES ||
      signature.size() != crypto_sign_BYTES) {
    return false;
  }
  return crypto_sign_verify_detached(Bytes(signature), Bytes(message),
                                     message.size(), Bytes(public_key)) == 0;
}

}  // namespace haven::client
