#include "server/crypto/state_sealer.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "server/crypto/aead.h"
#include "server/crypto/hmac.h"
#include "server/crypto/node_keys.h"

namespace haven::server::crypto {
namespace {

constexpr char kFormat = 0x01;

std::string AssociatedData(absl::string_view place) {
  return absl::StrCat("haven.state.v1\n", place);
}

}  // namespace

absl::StatusOr<std::unique_ptr<StateSealer>> StateSealer::Create(
    const SecretBytes& master_key) {
  auto seal_key = DeriveStateSealKey(master_key);
  if (!seal_key.ok()) return seal_key.status();
  auto mac_key = DeriveStateMacKey(master_key);
  if (!mac_key.ok()) return mac_key.status();
  return std::unique_ptr<StateSealer>(
      new StateSealer(*std::move(seal_key), *std::move(mac_key)));
}

std::string StateSealer::Seal(absl::string_view place,
                              absl::string_view plaintext) const {
  absl::StatusOr<std::string> sealed =
      AeadSeal(seal_key_, plaintext, AssociatedData(place));
  // The key is 32 bytes by construction: sealing cannot fail.
  if (!sealed.ok()) std::abort();
  return absl::StrCat(absl::string_view(&kFormat, 1), *sealed);
}

absl::StatusOr<std::string> StateSealer::Open(absl::string_view place,
                                              absl::string_view sealed,
                                              absl::string_view what) const {
  absl::StatusOr<std::string> plain;
  if (!sealed.empty() && sealed[0] == kFormat) {
    plain = AeadOpen(seal_key_, sealed.substr(1), AssociatedData(place));
  }
  if (sealed.empty() || sealed[0] != kFormat || !plain.ok()) {
    return absl::DataLossError(
        absl::StrCat(what,
                     " failed authentication (stored data altered, moved or "
                     "corrupt)"));
  }
  return plain;
}

std::string StateSealer::Mac(absl::string_view data) const {
  return HmacSha256(mac_key_, data);
}

}  // namespace haven::server::crypto
