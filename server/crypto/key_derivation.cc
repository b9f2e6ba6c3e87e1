#include "server/crypto/key_derivation.h"

#include <sodium.h>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "server/crypto/master_key.h"
#include "server/crypto/sodium.h"

namespace haven::server::crypto {
namespace {

static_assert(kMasterKeySize == crypto_kdf_KEYBYTES);
static_assert(kKekSize >= crypto_kdf_BYTES_MIN &&
              kKekSize <= crypto_kdf_BYTES_MAX);

constexpr char kKekContext[crypto_kdf_CONTEXTBYTES + 1] = "havenkek";
constexpr char kCheckContext[crypto_kdf_CONTEXTBYTES + 1] = "havenkcv";
constexpr char kCheckConstant[] = "haven master key check value v1";

absl::Status CheckMaster(const SecretBytes& master_key) {
  if (master_key.size() != kMasterKeySize) {
    return absl::InvalidArgumentError("master key has the wrong size");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SecretBytes> DeriveKek(const SecretBytes& master_key,
                                      uint32_t version) {
  EnsureSodiumInitialized();
  if (absl::Status s = CheckMaster(master_key); !s.ok()) return s;
  if (version == 0) {
    return absl::InvalidArgumentError("key-encryption key versions start at 1");
  }
  SecretBytes kek(kKekSize);
  crypto_kdf_derive_from_key(kek.mutable_data(), kek.size(), version,
                             kKekContext, master_key.data());
  return kek;
}

absl::StatusOr<std::string> KeyCheckValue(const SecretBytes& master_key) {
  EnsureSodiumInitialized();
  if (absl::Status s = CheckMaster(master_key); !s.ok()) return s;
  SecretBytes check_key(crypto_generichash_KEYBYTES);
  crypto_kdf_derive_from_key(check_key.mutable_data(), check_key.size(), 1,
                             kCheckContext, master_key.data());
  std::string out(kKeyCheckValueSize, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(kCheckConstant),
                     sizeof(kCheckConstant) - 1, check_key.data(),
                     check_key.size());
  return out;
}

std::string RandomBytes(size_t size) {
  EnsureSodiumInitialized();
  std::string out(size, '\0');
  if (size > 0) randombytes_buf(out.data(), size);
  return out;
}

std::string RandomHexId(size_t size) {
  return absl::BytesToHexString(RandomBytes(size));
}

}  // namespace haven::server::crypto
