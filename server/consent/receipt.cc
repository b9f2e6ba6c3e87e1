// The consent module's one use of libsodium: receipt verification.
#include "server/consent/receipt.h"

#include <sodium.h>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/crypto/digest.h"
#include "server/crypto/sodium.h"

namespace haven::server::consent {

std::string ReceiptMessage(const haven::v1::Consent& consent) {
  std::string message = kReceiptContext;
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    consent.SerializeToCodedStream(&coded);
  }
  message += bytes;
  return message;
}

std::string KeyId(std::span<const uint8_t> public_key) {
  return crypto::Sha256Hex(
             absl::string_view(reinterpret_cast<const char*>(public_key.data()),
                               public_key.size()))
      .substr(0, 8);
}

haven::v1::ConsentReceipt SignReceipt(const haven::v1::Consent& consent,
                                      const crypto::Ed25519Signer& signer,
                                      absl::string_view issuer) {
  haven::v1::ConsentReceipt receipt;
  *receipt.mutable_consent() = consent;
  receipt.set_issuer(std::string(issuer));
  receipt.set_key_id(KeyId(signer.public_key()));
  receipt.set_signature(signer.SignToString(ReceiptMessage(consent)));
  return receipt;
}

absl::Status VerifyReceipt(const haven::v1::ConsentReceipt& receipt,
                           std::span<const uint8_t> public_key) {
  crypto::EnsureSodiumInitialized();
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES) {
    return absl::InvalidArgumentError("public key must be 32 bytes");
  }
  if (receipt.signature().size() != crypto_sign_BYTES) {
    return absl::InvalidArgumentError("receipt signature must be 64 bytes");
  }
  if (receipt.key_id() != KeyId(public_key)) {
    return absl::PermissionDeniedError(
        "receipt key id does not match the public key");
  }
  const std::string message = ReceiptMessage(receipt.consent());
  if (crypto_sign_verify_detached(
          reinterpret_cast<const unsigned char*>(receipt.signature().data()),
          reinterpret_cast<const unsigned char*>(message.data()),
          message.size(), public_key.data()) != 0) {
    return absl::PermissionDeniedError("receipt signature does not verify");
  }
  return absl::OkStatus();
}

}  // namespace haven::server::consent
