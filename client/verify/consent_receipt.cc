#include "client/verify/consent_receipt.h"

#include "absl/strings/escaping.h"
#include "client/verify/crypto.h"
#include "haven/base/deterministic.h"

namespace haven::client {
namespace {

constexpr size_t kPublicKeyBytes = 32;
constexpr size_t kSignatureBytes = 64;

}  // namespace

std::string ConsentReceiptMessage(const haven::v1::Consent& consent) {
  std::string message = kConsentReceiptContext;
  message += Deterministic(consent);
  return message;
}

std::string ConsentReceiptKeyId(absl::string_view public_key) {
  return absl::BytesToHexString(Sha256(public_key).substr(0, 4));
}

absl::Status VerifyConsentReceipt(const haven::v1::ConsentReceipt& receipt,
                                  absl::string_view public_key) {
  if (public_key.size() != kPublicKeyBytes) {
    return absl::InvalidArgumentError("public key must be 32 bytes");
  }
  if (receipt.signature().size() != kSignatureBytes) {
    return absl::InvalidArgumentError("receipt signature must be 64 bytes");
  }
  if (receipt.key_id() != ConsentReceiptKeyId(public_key)) {
    return absl::PermissionDeniedError(
        "receipt key id does not match the public key");
  }
  if (!VerifyEd25519(public_key, ConsentReceiptMessage(receipt.consent()),
                     receipt.signature())) {
    return absl::PermissionDeniedError("receipt signature does not verify");
  }
  return absl::OkStatus();
}

}  // namespace haven::client
