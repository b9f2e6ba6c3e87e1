// Signing is the node's; the message and the check are the client's
// (client/verify/consent_receipt.h), so that a receipt verifies offline
// with exactly the code the node signs for.
#include "server/consent/receipt.h"

#include "client/verify/consent_receipt.h"

namespace haven::server::consent {
namespace {

absl::string_view AsString(std::span<const uint8_t> bytes) {
  return absl::string_view(reinterpret_cast<const char*>(bytes.data()),
                           bytes.size());
}

}  // namespace

std::string ReceiptMessage(const haven::v1::Consent& consent) {
  return client::ConsentReceiptMessage(consent);
}

std::string KeyId(std::span<const uint8_t> public_key) {
  return client::ConsentReceiptKeyId(AsString(public_key));
}

haven::v1::ConsentReceipt SignReceipt(const haven::v1::Consent& consent,
                                      const crypto::Ed25519Signer& signer,
                                      absl::string_view issuer) {
  haven::v1::ConsentReceipt receipt;
  *receipt.mutable_consent() = consent;
  receipt.set_issuer(std::string(issuer));
  // Key id and signature from one key, even across a rotation.
  crypto::Ed25519Signer::Signed sig =
      signer.SignWithKey(ReceiptMessage(consent));
  receipt.set_key_id(KeyId(sig.public_key));
  receipt.set_signature(std::move(sig.signature));
  return receipt;
}

absl::Status VerifyReceipt(const haven::v1::ConsentReceipt& receipt,
                           std::span<const uint8_t> public_key) {
  return client::VerifyConsentReceipt(receipt, AsString(public_key));
}

}  // namespace haven::server::consent
