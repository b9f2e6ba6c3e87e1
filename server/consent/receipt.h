// Consent receipts: what the node signs when a consent is recorded or
// changed, and how anyone checks one with the node's public key.
//
// The signature is Ed25519 over "haven.v1.ConsentReceipt\n" followed by the
// deterministic serialization of the consent (see consent.proto). Free
// functions; thread-safe.
#ifndef HAVEN_SERVER_CONSENT_RECEIPT_H_
#define HAVEN_SERVER_CONSENT_RECEIPT_H_

#include <cstdint>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "haven/v1/consent.pb.h"
#include "server/crypto/ed25519_signer.h"

namespace haven::server::consent {

inline constexpr char kReceiptContext[] = "haven.v1.ConsentReceipt\n";

// The exact bytes that are signed for `consent`.
std::string ReceiptMessage(const haven::v1::Consent& consent);

// Hex of the first 4 bytes of SHA-256 of `public_key`.
std::string KeyId(std::span<const uint8_t> public_key);

// Signs `consent` as `issuer` (the node's agency id).
haven::v1::ConsentReceipt SignReceipt(const haven::v1::Consent& consent,
                                      const crypto::Ed25519Signer& signer,
                                      absl::string_view issuer);

// OK if `receipt.signature` is a valid Ed25519 signature by `public_key`
// (32 bytes) over ReceiptMessage(receipt.consent) and the key id matches.
// INVALID_ARGUMENT for a malformed key or signature, PERMISSION_DENIED for a
// signature or key id that does not verify.
absl::Status VerifyReceipt(const haven::v1::ConsentReceipt& receipt,
                           std::span<const uint8_t> public_key);

}  // namespace haven::server::consent

#endif  // HAVEN_SERVER_CONSENT_RECEIPT_H_
