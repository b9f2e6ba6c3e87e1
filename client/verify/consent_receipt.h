// Consent receipts as a survivor or her advocate checks them, with no node.
//
// A receipt is the node's Ed25519 signature over "haven.v1.ConsentReceipt\n"
// followed by the deterministic protobuf serialization of the consent
// version it covers; its key id is the first 4 bytes of SHA-256 of the
// node's public key, in hex. The public key is the one in the node's
// signed-note verifier key (`havenctl audit key`). Pure functions;
// thread-safe.
#ifndef HAVEN_CLIENT_VERIFY_CONSENT_RECEIPT_H_
#define HAVEN_CLIENT_VERIFY_CONSENT_RECEIPT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "haven/v1/consent.pb.h"

namespace haven::client {

inline constexpr char kConsentReceiptContext[] = "haven.v1.ConsentReceipt\n";

// The exact bytes that are signed for `consent`.
std::string ConsentReceiptMessage(const haven::v1::Consent& consent);

// Hex of the first 4 bytes of SHA-256 of `public_key`.
std::string ConsentReceiptKeyId(absl::string_view public_key);

// OK if `receipt.signature` is a valid Ed25519 signature by `public_key`
// (32 bytes) over ConsentReceiptMessage(receipt.consent) and the key id
// matches. INVALID_ARGUMENT for a malformed key or signature,
// PERMISSION_DENIED for a signature or key id that does not verify.
absl::Status VerifyConsentReceipt(const haven::v1::ConsentReceipt& receipt,
                                  absl::string_view public_key);

}  // namespace haven::client

#endif  // HAVEN_CLIENT_VERIFY_CONSENT_RECEIPT_H_
