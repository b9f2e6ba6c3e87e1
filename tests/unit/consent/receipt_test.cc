#include "server/consent/receipt.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/consent/registry_fixture.h"

namespace haven::server::consent {
namespace {

using haven::testing::IsOk;
using haven::testing::StatusIs;

haven::v1::ConsentReceipt SampleReceipt(const crypto::Ed25519Signer& signer) {
  haven::v1::Consent c = testing::LegalAidTerms("subject-7f3a");
  c.set_consent_id("0123456789abcdef0123456789abcdef");
  c.set_version(1);
  c.set_status(haven::v1::ACTIVE);
  c.set_recorded_by("advocate-1");
  c.set_recorded_unix(testing::kNow);
  return SignReceipt(c, signer, "safe-harbor");
}

TEST(ReceiptTest, VerifiesWithTheNodePublicKey) {
  auto signer = testing::TestSigner();
  auto receipt = SampleReceipt(*signer);
  EXPECT_EQ(receipt.issuer(), "safe-harbor");
  EXPECT_EQ(receipt.key_id().size(), 8u);
  EXPECT_THAT(VerifyReceipt(receipt, signer->public_key()), IsOk());
}

TEST(ReceiptTest, SignedBytesAreContextPlusDeterministicConsent) {
  auto signer = testing::TestSigner();
  auto receipt = SampleReceipt(*signer);
  const std::string message = ReceiptMessage(receipt.consent());
  EXPECT_EQ(message.rfind("haven.v1.ConsentReceipt\n", 0), 0u);
  EXPECT_EQ(receipt.signature(), signer->SignToString(message));
}

TEST(ReceiptTest, AnyFlippedByteOfTheSignedConsentFails) {
  auto signer = testing::TestSigner();
  auto receipt = SampleReceipt(*signer);
  const std::string bytes = receipt.consent().SerializeAsString();
  int checked = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string changed = bytes;
    changed[i] ^= 0x01;
    haven::v1::ConsentReceipt tampered = receipt;
    if (!tampered.mutable_consent()->ParseFromString(changed)) continue;
    if (ReceiptMessage(tampered.consent()) == ReceiptMessage(receipt.consent()))
      continue;  // a flip protobuf normalises away changes nothing signed
    EXPECT_FALSE(VerifyReceipt(tampered, signer->public_key()).ok())
        << "byte " << i;
    ++checked;
  }
  EXPECT_GT(checked, static_cast<int>(bytes.size()) / 2);
}

TEST(ReceiptTest, AnyFlippedSignatureOrKeyByteFails) {
  auto signer = testing::TestSigner();
  auto receipt = SampleReceipt(*signer);
  for (size_t i = 0; i < receipt.signature().size(); ++i) {
    haven::v1::ConsentReceipt tampered = receipt;
    (*tampered.mutable_signature())[i] ^= 0x80;
    EXPECT_THAT(VerifyReceipt(tampered, signer->public_key()),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << "signature byte " << i;
  }
  for (size_t i = 0; i < signer->public_key().size(); ++i) {
    auto key = signer->public_key();
    key[i] ^= 0x01;
    EXPECT_FALSE(VerifyReceipt(receipt, key).ok()) << "key byte " << i;
  }
  for (size_t i = 0; i < receipt.key_id().size(); ++i) {
    haven::v1::ConsentReceipt tampered = receipt;
    (*tampered.mutable_key_id())[i] ^= 0x01;
    EXPECT_FALSE(VerifyReceipt(tampered, signer->public_key()).ok());
  }
}

TEST(ReceiptTest, MalformedKeyOrSignatureIsInvalidArgument) {
  auto signer = testing::TestSigner();
  auto receipt = SampleReceipt(*signer);
  const uint8_t short_key[5] = {};
  EXPECT_THAT(VerifyReceipt(receipt, short_key),
              StatusIs(absl::StatusCode::kInvalidArgument));
  receipt.mutable_signature()->pop_back();
  EXPECT_THAT(VerifyReceipt(receipt, signer->public_key()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace haven::server::consent
