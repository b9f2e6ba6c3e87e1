#include "server/audit/pseudonym.h"

#include <string>

#include "absl/strings/escaping.h"
#include "client/verify/signed_note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/crypto/ed25519_signer.h"
#include "server/crypto/hmac.h"
#include "tests/testing/status_matchers.h"

namespace haven::server::audit {
namespace {

using ::haven::testing::IsOk;

crypto::SecretBytes Key(absl::string_view bytes) {
  return crypto::SecretBytes::CopyFrom(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

TEST(PseudonymTest, HmacMatchesRfc4231TestCase2) {
  EXPECT_EQ(crypto::HmacSha256Hex(Key("Jefe"), "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(PseudonymTest, SameSubjectSameKeyGivesSamePseudonym) {
  auto key = crypto::SecretBytes::Random(32);
  std::string p = SubjectPseudonym(key, "subject-123");
  EXPECT_EQ(p.size(), 64u);
  EXPECT_EQ(p, SubjectPseudonym(key, "subject-123"));
  EXPECT_NE(p, SubjectPseudonym(key, "subject-124"));
  EXPECT_THAT(p, ::testing::Not(::testing::HasSubstr("subject")));
}

TEST(PseudonymTest, OtherNodeKeyGivesUnlinkablePseudonym) {
  EXPECT_NE(SubjectPseudonym(crypto::SecretBytes::Random(32), "s"),
            SubjectPseudonym(crypto::SecretBytes::Random(32), "s"));
}

// The server's signer plus the client's signature-line format reproduce the
// note golang.org/x/mod/sumdb/note publishes for its PeterNeumann key, byte
// for byte (Ed25519 is deterministic), so standard verifiers accept ours.
TEST(PseudonymTest, CheckpointSigningMatchesGoReferenceNote) {
  std::string skey;
  ASSERT_TRUE(absl::Base64Unescape(
      "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", &skey));
  ASSERT_EQ(skey.size(), 33u);
  auto signer = crypto::Ed25519Signer::FromSeed(Key(skey.substr(1)));
  ASSERT_THAT(signer, IsOk());
  std::string pub((*signer)->public_key().begin(),
                  (*signer)->public_key().end());
  EXPECT_EQ(*client::FormatVerifierKey("PeterNeumann", pub),
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
            "LDE4izWy10TW");
  std::string text =
      "If you think cryptography is the answer to your problem,\n"
      "then you don't know what your problem is.\n";
  EXPECT_EQ(client::FormatSignatureLine("PeterNeumann",
                                        client::NoteKeyId("PeterNeumann", pub),
                                        (*signer)->SignToString(text)),
            "\xE2\x80\x94 PeterNeumann "
            "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
            "KvqfqdngotpRZb6KE6RyyBwJnAM=\n");
}

}  // namespace
}  // namespace haven::server::audit
