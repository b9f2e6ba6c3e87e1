#include "client/verify/proof_bundle.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "client/verify/merkle.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/crypto/ed25519_signer.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/client/test_checkpoints.h"

namespace haven::client {
namespace {

using ::haven::client::testing::kOrigin;
using ::haven::client::testing::NewSigner;
using ::haven::client::testing::PublicKey;
using ::haven::client::testing::SignedCheckpoint;
using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;

class ProofBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signer_ = NewSigner();
    ASSERT_NE(signer_, nullptr);
    auto vkey = FormatVerifierKey(kOrigin, PublicKey(*signer_));
    ASSERT_THAT(vkey, IsOk());
    auto key = ParseVerifierKey(*vkey);
    ASSERT_THAT(key, IsOk());
    key_ = *key;
    for (int i = 0; i < 11; ++i) {
      haven::v1::AuditEntry entry;
      entry.set_kind(i % 2 ? haven::v1::DISCLOSURE : haven::v1::RECORD_WRITTEN);
      entry.set_time_unix_nanos(1'700'000'000'000'000'000 + i);
      entry.set_agency_id("legal-aid");
      entry.set_request_id(absl::StrCat("req", i));
      leaves_.push_back(entry.SerializeAsString());
      hashes_.push_back(HashLeaf(leaves_.back()));
    }
  }

  // A note over the whole tree signed by the node key, plus `extra` lines.
  std::string Note(const std::string& extra = "") const {
    return SignedCheckpoint(*signer_, hashes_) + extra;
  }

  ProofBundle Bundle(uint64_t index, const std::string& note) const {
    ProofBundle b;
    b.leaf_index = index;
    b.tree_size = hashes_.size();
    b.leaf = leaves_[index];
    auto proof = InclusionProofFromLeafHashes(hashes_, index, hashes_.size());
    EXPECT_THAT(proof, IsOk());
    b.inclusion_proof = *proof;
    b.checkpoint_note = note;
    return b;
  }

  std::string Text(uint64_t index) const {
    return FormatProofBundle(Bundle(index, Note()));
  }

  std::unique_ptr<server::crypto::Ed25519Signer> signer_;
  NoteVerifierKey key_;
  std::vector<std::string> leaves_;
  std::vector<std::string> hashes_;
};

TEST_F(ProofBundleTest, FormattedBundleRoundTripsAndVerifies) {
  for (uint64_t i = 0; i < leaves_.size(); ++i) {
    const std::string text = Text(i);
    auto parsed = ParseProofBundle(text);
    ASSERT_THAT(parsed, IsOk()) << text;
    EXPECT_EQ(parsed->leaf, leaves_[i]);
    EXPECT_EQ(FormatProofBundle(*parsed), text);
    auto verified = VerifyProofBundle(text, key_);
    ASSERT_THAT(verified, IsOk());
    EXPECT_EQ(verified->leaf_index, i);
    EXPECT_EQ(verified->checkpoint.tree_size, leaves_.size());
    EXPECT_EQ(verified->checkpoint.origin, kOrigin);
    EXPECT_EQ(verified->entry.request_id(), absl::StrCat("req", i));
    EXPECT_TRUE(verified->other_signers.empty());
  }
}

TEST_F(ProofBundleTest, DocumentedLayout) {
  const std::string text = Text(3);
  EXPECT_EQ(text.rfind("{\"format\":\"haven-proof-bundle/v1\",\"leaf_index\":3,"
                       "\"tree_size\":11,\"leaf\":\"",
                       0),
            0u)
      << text;
  EXPECT_THAT(text, HasSubstr("\",\"inclusion_proof\":[\""));
  EXPECT_THAT(text, HasSubstr("\"],\"checkpoint\":\""));
  EXPECT_THAT(text, HasSubstr("\",\"checkpoint_sha256\":\""));
  EXPECT_EQ(text.substr(text.size() - 3), "\"}\n");
}

TEST_F(ProofBundleTest, OtherSignatureLinesAreKeptAndNamed) {
  auto witness = NewSigner();
  ASSERT_NE(witness, nullptr);
  const std::string witness_line =
      FormatSignatureLine("witness.example/w1",
                          NoteKeyId("witness.example/w1", PublicKey(*witness)),
                          witness->SignToString("anything"));
  const std::string note = Note(witness_line);
  const std::string text = FormatProofBundle(Bundle(4, note));
  auto parsed = ParseProofBundle(text);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->checkpoint_note, note);
  auto verified = VerifyProofBundle(text, key_);
  ASSERT_THAT(verified, IsOk());
  EXPECT_THAT(verified->other_signers,
              ::testing::ElementsAre("witness.example/w1"));
}

// The property the format is built for: no single bit of a bundle can
// change without the check failing, here including a signature line the
// checker holds no key for.
TEST_F(ProofBundleTest, EverySingleBitFlipFails) {
  auto witness = NewSigner();
  ASSERT_NE(witness, nullptr);
  const std::string note = Note(
      FormatSignatureLine("witness.example/w1",
                          NoteKeyId("witness.example/w1", PublicKey(*witness)),
                          witness->SignToString("anything")));
  for (uint64_t index : {uint64_t{0}, uint64_t{5}, uint64_t{10}}) {
    const std::string text = FormatProofBundle(Bundle(index, note));
    ASSERT_THAT(VerifyProofBundle(text, key_), IsOk());
    for (size_t byte = 0; byte < text.size(); ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string flipped = text;
        flipped[byte] = static_cast<char>(flipped[byte] ^ (1 << bit));
        EXPECT_FALSE(VerifyProofBundle(flipped, key_).ok())
            << "bundle " << index << " byte " << byte << " bit " << bit;
      }
    }
  }
}

TEST_F(ProofBundleTest, NonCanonicalSpellingsAreRefused) {
  const std::string text = Text(2);
  ASSERT_THAT(ParseProofBundle(text), IsOk());
  const std::string body = text.substr(0, text.size() - 1);
  struct Case {
    std::string name;
    std::string text;
    std::string reason;
  };
  const std::string leaf_b64 = absl::Base64Escape(leaves_[2]);
  std::string upper = text;
  const size_t hash_at = text.find("\"inclusion_proof\":[\"") + 20;
  for (size_t i = hash_at; i < hash_at + 64; ++i) {
    if (upper[i] >= 'a' && upper[i] <= 'f') {
      upper[i] = static_cast<char>(upper[i] - 'a' + 'A');
      break;
    }
  }
  std::vector<Case> cases = {
      {"no newline", body, "exactly one newline"},
      {"two newlines", text + "\n", "trailing data"},
      {"CRLF", body + "\r\n", "exactly one newline"},
      {"space after brace",
       absl::StrReplaceAll(text, {{"{\"format\"", "{ \"format\""}}),
       "expected"},
      {"space after colon",
       absl::StrReplaceAll(text, {{"\"leaf_index\":2", "\"leaf_index\": 2"}}),
       "expected a value"},
      {"leading zero",
       absl::StrReplaceAll(text, {{"\"leaf_index\":2", "\"leaf_index\":02"}}),
       "canonical decimal"},
      {"unknown key",
       absl::StrReplaceAll(text, {{"\"tree_size\"", "\"tree_sizes\""}}),
       "unknown key"},
      {"duplicate key",
       absl::StrReplaceAll(
           text, {{"\"tree_size\":11,", "\"tree_size\":11,\"tree_size\":11,"}}),
       "duplicate key"},
      {"out of order",
       absl::StrReplaceAll(text, {{"\"leaf_index\":2,\"tree_size\":11",
                                   "\"tree_size\":11,\"leaf_index\":2"}}),
       "out of order"},
      {"missing key", absl::StrReplaceAll(text, {{"\"tree_size\":11,", ""}}),
       "missing key"},
      {"unpadded base64",
       absl::StrReplaceAll(
           text, {{leaf_b64, absl::StrReplaceAll(leaf_b64, {{"=", ""}})}}),
       "base64"},
      {"escape",
       absl::StrReplaceAll(
           text, {{"haven-proof-bundle/v1", "haven-proof-bundle\\/v1"}}),
       "no escapes"},
      {"upper-case hex", upper, "lower-case hex"},
      {"other version", absl::StrReplaceAll(text, {{"/v1", "/v2"}}), "format"},
      {"number as string",
       absl::StrReplaceAll(text,
                           {{"\"tree_size\":11", "\"tree_size\":\"11\""}}),
       "must be a number"},
  };
  for (const Case& c : cases) {
    ASSERT_NE(c.text, text) << c.name;
    EXPECT_THAT(
        ParseProofBundle(c.text),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.reason)))
        << c.name;
  }
}

TEST_F(ProofBundleTest, OversizedInputIsRefusedBeforeParsing) {
  std::string huge(kMaxProofBundleBytes + 1, ' ');
  EXPECT_THAT(ParseProofBundle(huge),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("limit")));
}

TEST_F(ProofBundleTest, WrongKeyMismatchedSizeAndIndexFail) {
  auto other = NewSigner();
  ASSERT_NE(other, nullptr);
  auto vkey = FormatVerifierKey(kOrigin, PublicKey(*other));
  ASSERT_THAT(vkey, IsOk());
  auto other_key = ParseVerifierKey(*vkey);
  ASSERT_THAT(other_key, IsOk());
  EXPECT_FALSE(VerifyProofBundle(Text(1), *other_key).ok());

  ProofBundle b = Bundle(1, Note());
  b.tree_size = 10;
  EXPECT_THAT(VerifyProofBundle(FormatProofBundle(b), key_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("tree_size")));
  b = Bundle(1, Note());
  b.leaf_index = 11;
  EXPECT_THAT(VerifyProofBundle(FormatProofBundle(b), key_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("not below")));
  b = Bundle(1, Note());
  b.leaf = leaves_[2];
  EXPECT_THAT(VerifyProofBundle(FormatProofBundle(b), key_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("inclusion")));
}

}  // namespace
}  // namespace haven::client
