// Fuzz target: consent receipt verification (server/consent/receipt.h) on
// a haven.v1.ConsentReceipt parsed from the input, as anyone holding a
// receipt checks it with the node's public key, here the fixed trusted key
// (fuzz_keys.h). The seeds hold receipts really signed by it (SignReceipt).
// Besides never crashing: a refusal is INVALID_ARGUMENT or
// PERMISSION_DENIED, and a receipt that verifies names the key and still
// verifies after a round trip through its wire form (the signed bytes are
// the consent's deterministic serialization, which must not depend on how
// the message was read).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "haven/v1/consent.pb.h"
#include "server/consent/receipt.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_keys.h"

namespace {

const std::string& TrustedPublicKey() {
  static const std::string* key = [] {
    auto signer = haven::fuzz::FixedSigner(haven::fuzz::kTrustedKeyFill);
    return new std::string(haven::fuzz::PublicKey(*signer));
  }();
  return *key;
}

std::span<const uint8_t> Span(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using haven::fuzz::FuzzCheck;
  haven::fuzz::QuietProtobufLogs();
  haven::v1::ConsentReceipt receipt;
  if (!receipt.ParseFromArray(data, static_cast<int>(size))) return 0;
  const std::span<const uint8_t> key = Span(TrustedPublicKey());
  absl::Status verified = haven::server::consent::VerifyReceipt(receipt, key);
  if (!verified.ok()) {
    FuzzCheck(
        absl::IsInvalidArgument(verified) || absl::IsPermissionDenied(verified),
        "a receipt is refused as malformed or not verifying");
    return 0;
  }
  FuzzCheck(receipt.key_id() == haven::server::consent::KeyId(key),
            "a verified receipt names the key");
  haven::v1::ConsentReceipt again;
  FuzzCheck(again.ParseFromString(receipt.SerializeAsString()) &&
                haven::server::consent::VerifyReceipt(again, key).ok(),
            "a verified receipt verifies after a round trip");
  return 0;
}
