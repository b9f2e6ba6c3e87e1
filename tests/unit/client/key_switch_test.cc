#include "client/verify/key_switch.h"

#include <memory>
#include <string>
#include <vector>

#include "client/verify/log_replay.h"
#include "client/verify/merkle.h"
#include "client/verify/signed_note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/base/deterministic.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/client/test_checkpoints.h"

namespace haven::client {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::ElementsAre;
using testing::kOrigin;
using testing::NewSigner;
using testing::PublicKey;
using testing::SignedCheckpoint;

std::string VerifierKeyOf(const server::crypto::Ed25519Signer& signer) {
  return *FormatVerifierKey(kOrigin, PublicKey(signer));
}

std::string Leaf(const haven::v1::AuditEntry& entry) {
  return Deterministic(entry);
}

std::string PlainLeaf(int n) {
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::POLICY_LOADED);
  entry.set_detail(std::to_string(n));
  return Leaf(entry);
}

// A SIGNING_KEY_ROTATED leaf at `index`, handed over and signed by `by`.
std::string SwitchLeaf(const server::crypto::Ed25519Signer& from,
                       const server::crypto::Ed25519Signer& to, uint64_t index,
                       const server::crypto::Ed25519Signer& by) {
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::SIGNING_KEY_ROTATED);
  haven::v1::SigningKeySwitch* s = entry.mutable_key_switch();
  s->set_old_verifier_key(VerifierKeyOf(from));
  s->set_new_verifier_key(VerifierKeyOf(to));
  s->set_tree_size(index + 1);
  s->set_handover_signature(by.SignToString(
      KeySwitchMessage(s->old_verifier_key(), s->new_verifier_key())));
  return Leaf(entry);
}

std::vector<std::string> Hashes(const std::vector<std::string>& leaves) {
  std::vector<std::string> hashes;
  for (const std::string& leaf : leaves) hashes.push_back(HashLeaf(leaf));
  return hashes;
}

class KeySwitchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    old_ = NewSigner();
    new_ = NewSigner();
    other_ = NewSigner();
    ASSERT_NE(old_, nullptr);
    ASSERT_NE(new_, nullptr);
    ASSERT_NE(other_, nullptr);
    // Entries 0 and 1, the switch at 2 (tree size 3), then 3 and 4.
    leaves_ = {PlainLeaf(0), PlainLeaf(1), SwitchLeaf(*old_, *new_, 2, *old_),
               PlainLeaf(3), PlainLeaf(4)};
  }

  // Replays the log against a checkpoint of all of it signed by `signer`,
  // verified under the key the log's switches name for its size, and the
  // trusted checkpoint of the first `trusted_size` leaves signed by
  // `trusted_signer`.
  absl::Status Replay(const server::crypto::Ed25519Signer& signer,
                      uint64_t trusted_size,
                      const server::crypto::Ed25519Signer& trusted_signer) {
    auto keys = LogSigningKeys::FromLeaves(leaves_, kOrigin);
    if (!keys.ok()) return keys.status();
    ReplayInput input;
    input.leaves = leaves_;
    input.checkpoint_note = SignedCheckpoint(signer, Hashes(leaves_));
    input.verifier_key = keys->KeyFor(leaves_.size(), "");
    input.origin = std::string(kOrigin);
    const std::vector<std::string> prefix(leaves_.begin(),
                                          leaves_.begin() + trusted_size);
    input.trusted_checkpoint_note =
        SignedCheckpoint(trusted_signer, Hashes(prefix));
    input.trusted_verifier_key = keys->KeyFor(trusted_size, "");
    return VerifyLogReplay(input).status();
  }

  std::unique_ptr<server::crypto::Ed25519Signer> old_;
  std::unique_ptr<server::crypto::Ed25519Signer> new_;
  std::unique_ptr<server::crypto::Ed25519Signer> other_;
  std::vector<std::string> leaves_;
};

TEST_F(KeySwitchTest, ChainNamesWhichKeySignedEachSize) {
  auto keys = LogSigningKeys::FromLeaves(leaves_, kOrigin);
  ASSERT_THAT(keys.status(), IsOk());
  EXPECT_TRUE(keys->rotated());
  EXPECT_THAT(keys->Keys(),
              ElementsAre(VerifierKeyOf(*old_), VerifierKeyOf(*new_)));
  EXPECT_EQ(keys->KeyFor(1, ""), VerifierKeyOf(*old_));
  EXPECT_EQ(keys->KeyFor(3, ""), VerifierKeyOf(*old_));
  EXPECT_EQ(keys->KeyFor(4, ""), VerifierKeyOf(*new_));
}

TEST_F(KeySwitchTest, LogWithoutSwitchHasOneKey) {
  auto keys = LogSigningKeys::FromLeaves({PlainLeaf(0)}, kOrigin);
  ASSERT_THAT(keys.status(), IsOk());
  EXPECT_FALSE(keys->rotated());
  EXPECT_EQ(keys->KeyFor(1, "only"), "only");
}

TEST_F(KeySwitchTest, CheckpointsBeforeAndAfterTheSwitchVerify) {
  EXPECT_THAT(Replay(*new_, 3, *old_), IsOk());
  EXPECT_THAT(Replay(*new_, 1, *old_), IsOk());
  EXPECT_THAT(Replay(*new_, 4, *new_), IsOk());
}

TEST_F(KeySwitchTest, CheckpointSignedByUnrelatedKeyFails) {
  EXPECT_THAT(Replay(*other_, 3, *old_), ::testing::Not(IsOk()));
  EXPECT_THAT(Replay(*new_, 3, *other_), ::testing::Not(IsOk()));
  // Nor does the old key sign past its switch.
  EXPECT_THAT(Replay(*old_, 3, *old_), ::testing::Not(IsOk()));
}

TEST_F(KeySwitchTest, SwitchNotSignedByTheOldKeyFails) {
  leaves_[2] = SwitchLeaf(*old_, *new_, 2, *other_);
  EXPECT_THAT(LogSigningKeys::FromLeaves(leaves_, kOrigin).status(),
              StatusIs(absl::StatusCode::kDataLoss));
  // Signed by the new key, which is not the one handing over.
  leaves_[2] = SwitchLeaf(*old_, *new_, 2, *new_);
  EXPECT_THAT(LogSigningKeys::FromLeaves(leaves_, kOrigin).status(),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(KeySwitchTest, SwitchAtAnotherSizeThanItNamesFails) {
  leaves_[2] = SwitchLeaf(*old_, *new_, 3, *old_);
  EXPECT_THAT(LogSigningKeys::FromLeaves(leaves_, kOrigin).status(),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(KeySwitchTest, SecondSwitchMustHandOverFromTheKeyInForce) {
  leaves_.push_back(SwitchLeaf(*old_, *other_, 5, *old_));
  EXPECT_THAT(LogSigningKeys::FromLeaves(leaves_, kOrigin).status(),
              StatusIs(absl::StatusCode::kDataLoss));
  leaves_.back() = SwitchLeaf(*new_, *other_, 5, *new_);
  auto keys = LogSigningKeys::FromLeaves(leaves_, kOrigin);
  ASSERT_THAT(keys.status(), IsOk());
  EXPECT_EQ(keys->KeyFor(6, ""), VerifierKeyOf(*new_));
  EXPECT_EQ(keys->KeyFor(7, ""), VerifierKeyOf(*other_));
}

TEST_F(KeySwitchTest, VoidedSwitchNeverTookEffect) {
  haven::v1::AuditEntry voided;
  voided.set_kind(haven::v1::WRITES_VOIDED);
  voided.mutable_voided()->set_first(2);
  voided.mutable_voided()->set_end(3);
  leaves_[3] = Leaf(voided);
  auto keys = LogSigningKeys::FromLeaves(leaves_, kOrigin);
  ASSERT_THAT(keys.status(), IsOk());
  EXPECT_FALSE(keys->rotated());
  // Kept, it stands.
  voided.mutable_voided()->add_kept(2);
  leaves_[3] = Leaf(voided);
  keys = LogSigningKeys::FromLeaves(leaves_, kOrigin);
  ASSERT_THAT(keys.status(), IsOk());
  EXPECT_TRUE(keys->rotated());
}

}  // namespace
}  // namespace haven::client
