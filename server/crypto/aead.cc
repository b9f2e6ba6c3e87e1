#include "server/crypto/aead.h"

#include <sodium.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/crypto/sodium.h"

namespace haven::server::crypto {
namespace {

static_assert(kAeadKeySize == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kAeadNonceSize == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(kAeadTagSize == crypto_aead_xchacha20poly1305_ietf_ABYTES);

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

absl::Status CheckKey(const SecretBytes& key) {
  if (key.size() != kAeadKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("AEAD key must be ", kAeadKeySize, " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Seal(const SecretBytes& key, const uint8_t* data,
                                 size_t size, absl::string_view ad) {
  EnsureSodiumInitialized();
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  std::string out(kAeadOverhead + size, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, kAeadNonceSize);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kAeadNonceSize, &written,
                                             data, size, Bytes(ad), ad.size(),
                                             nullptr, nonce, key.data());
  out.resize(kAeadNonceSize + written);
  return out;
}

// Decrypts into `out` (which must hold sealed.size() - kAeadOverhead bytes).
absl::Status Open(const SecretBytes& key, absl::string_view sealed,
                  absl::string_view ad, uint8_t* out) {
  EnsureSodiumInitialized();
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  if (sealed.size() < kAeadOverhead) {
    return absl::DataLossError("authentication failed (message truncated)");
  }
  const unsigned char* nonce = Bytes(sealed);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          out, &written, nullptr, nonce + kAeadNonceSize,
          sealed.size() - kAeadNonceSize, Bytes(ad), ad.size(), nonce,
          key.data()) != 0) {
    return absl::DataLossError("authentication failed");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> AeadSeal(const SecretBytes& key,
                                     absl::string_view plaintext,
                                     absl::string_view ad) {
  return Seal(key, Bytes(plaintext), plaintext.size(), ad);
}

absl::StatusOr<std::string> AeadSealSecret(const SecretBytes& key,
                                           const SecretBytes& plaintext,
                                           absl::string_view ad) {
  return Seal(key, plaintext.data(), plaintext.size(), ad);
}

absl::StatusOr<std::string> AeadOpen(const SecretBytes& key,
                                     absl::string_view sealed,
                                     absl::string_view ad) {
  std::string out(
      sealed.size() >= kAeadOverhead ? sealed.size() - kAeadOverhead : 0, '\0');
  absl::Status s =
      Open(key, sealed, ad, reinterpret_cast<uint8_t*>(out.data()));
  if (!s.ok()) {
    WipeString(out);
    return s;
  }
  return out;
}

absl::StatusOr<SecretBytes> AeadOpenSecret(const SecretBytes& key,
                                           absl::string_view sealed,
                                           absl::string_view ad) {
  SecretBytes out(sealed.size() >= kAeadOverhead ? sealed.size() - kAeadOverhead
                                                 : 0);
  // SecretBytes of size 0 has no buffer; give libsodium a valid pointer.
  uint8_t empty = 0;
  absl::Status s =
      Open(key, sealed, ad, out.empty() ? &empty : out.mutable_data());
  if (!s.ok()) return s;
  return out;
}

void WipeString(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

}  // namespace haven::server::crypto
