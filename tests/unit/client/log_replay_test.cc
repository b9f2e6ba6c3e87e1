#include "client/verify/log_replay.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/verify/merkle.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/crypto/ed25519_signer.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/client/test_checkpoints.h"

namespace haven::client {
namespace {

using ::haven::client::testing::kOrigin;
using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;

class LogReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signer_ = testing::NewSigner();
    ASSERT_NE(signer_, nullptr);
    auto vkey = FormatVerifierKey(kOrigin, testing::PublicKey(*signer_));
    ASSERT_THAT(vkey, IsOk());
    vkey_ = *vkey;
    for (int i = 0; i < 13; ++i) leaves_.push_back(absl::StrCat("entry ", i));
  }

  std::string Sign(const std::vector<std::string>& leaves) {
    std::vector<std::string> hashes;
    for (const auto& l : leaves) hashes.push_back(HashLeaf(l));
    return testing::SignedCheckpoint(*signer_, hashes);
  }

  // Proofs as the honest node would serve them, from the original leaves.
  InclusionProofSource HonestProofs(std::vector<std::string> leaves) {
    std::vector<std::string> hashes;
    for (const auto& l : leaves) hashes.push_back(HashLeaf(l));
    return [hashes](uint64_t index, uint64_t size) {
      return InclusionProofFromLeafHashes(hashes, index, size);
    };
  }

  std::unique_ptr<server::crypto::Ed25519Signer> signer_;
  std::string vkey_;
  std::vector<std::string> leaves_;
};

TEST_F(LogReplayTest, HonestLogVerifies) {
  ReplayInput in{leaves_,
                 Sign(leaves_),
                 vkey_,
                 std::string(kOrigin),
                 Sign({leaves_.begin(), leaves_.begin() + 5}),
                 nullptr};
  auto body = VerifyLogReplay(in);
  ASSERT_THAT(body, IsOk());
  EXPECT_EQ(body->tree_size, 13u);
}

TEST_F(LogReplayTest, AlteredLeafIsNamedByIndex) {
  std::string checkpoint = Sign(leaves_);
  auto tampered = leaves_;
  tampered[7][0] ^= 0x20;
  ReplayInput in{tampered, checkpoint,   vkey_,
                 "",       std::nullopt, HonestProofs(leaves_)};
  EXPECT_THAT(VerifyLogReplay(in), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(VerifyLogReplay(in).status().message(), HasSubstr("leaf 7 "));
}

// An attacker who alters leaf 7 and rewrites its stored leaf hash to match
// makes the proof of leaf 6 (which carries that hash) fail too: the
// auditor is told both, not pointed at 6 alone.
TEST_F(LogReplayTest, AlteredLeafWithRewrittenHashNamesBothNeighbours) {
  std::string checkpoint = Sign(leaves_);
  auto tampered = leaves_;
  tampered[7][0] ^= 0x20;
  InclusionProofSource honest = HonestProofs(leaves_);
  const std::string rewritten = HashLeaf(tampered[7]);
  InclusionProofSource rewritten_proofs =
      [&](uint64_t index,
          uint64_t size) -> absl::StatusOr<std::vector<std::string>> {
    auto proof = honest(index, size);
    if (proof.ok() && index == 6) (*proof)[0] = rewritten;
    return proof;
  };
  ReplayInput in{tampered, checkpoint,   vkey_,
                 "",       std::nullopt, rewritten_proofs};
  auto result = VerifyLogReplay(in);
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(result.status().message(), HasSubstr("leaves 6, 7 cannot be"));
  EXPECT_THAT(result.status().message(), HasSubstr("first bad index 6"));
}

TEST_F(LogReplayTest, ShrunkLogBreaksConsistencyWithTrustedCheckpoint) {
  std::string trusted = Sign(leaves_);
  std::vector<std::string> shorter(leaves_.begin(), leaves_.begin() + 10);
  ReplayInput in{shorter, Sign(shorter), vkey_, "", trusted, nullptr};
  auto result = VerifyLogReplay(in);
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(result.status().message(),
              HasSubstr("not consistent with the trusted checkpoint"));
}

TEST_F(LogReplayTest, RewrittenHistoryBreaksConsistency) {
  std::string trusted = Sign({leaves_.begin(), leaves_.begin() + 6});
  auto rewritten = leaves_;
  rewritten[2] = "rewritten";
  ReplayInput in{rewritten, Sign(rewritten), vkey_, "", trusted, nullptr};
  auto result = VerifyLogReplay(in);
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(
      result.status().message(),
      HasSubstr("not consistent with the trusted checkpoint at size 6"));
}

TEST_F(LogReplayTest, WrongOriginOrKeyFails) {
  ReplayInput in{leaves_,      Sign(leaves_), vkey_, "other.example/log",
                 std::nullopt, nullptr};
  EXPECT_THAT(VerifyLogReplay(in),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  auto other = server::crypto::Ed25519Signer::FromSeed(
      server::crypto::SecretBytes::Random(32));
  ASSERT_THAT(other, IsOk());
  std::string pub((*other)->public_key().begin(), (*other)->public_key().end());
  in.origin = "";
  in.verifier_key = *FormatVerifierKey(kOrigin, pub);
  EXPECT_FALSE(VerifyLogReplay(in).ok());
}

}  // namespace
}  // namespace haven::client
