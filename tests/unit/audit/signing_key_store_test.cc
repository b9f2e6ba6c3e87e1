#include "server/audit/signing_key_store.h"

#include <memory>
#include <string>
#include <vector>

#include "client/verify/key_switch.h"
#include "client/verify/signed_note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/audit/audit_log.h"
#include "server/audit/audit_recorder.h"
#include "server/crypto/node_keys.h"
#include "server/crypto/state_sealer.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fault_injecting_storage.h"
#include "tests/testing/status_matchers.h"

namespace haven::server::audit {
namespace {

using ::haven::testing::FaultInjectingStorage;
using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;

constexpr char kAgency[] = "safe-harbor";

// A node's signing keys, log and recorder over a FaultInjectingStorage;
// Restart reopens all of them as a restarted node does (key store first).
class SigningKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    master_key_ = crypto::SecretBytes(32);
    for (size_t i = 0; i < 32; ++i) {
      master_key_.mutable_data()[i] = static_cast<uint8_t>(7 * i + 1);
    }
    pseudonym_key_ = *crypto::DerivePseudonymKey(master_key_);
    sealer_ = *crypto::StateSealer::Create(master_key_);
    storage_ = std::make_unique<FaultInjectingStorage>();
    ASSERT_THAT(Open(), IsOk());
  }

  void TearDown() override { Close(); }

  absl::Status Open() {
    auto keys = SigningKeyStore::Open({storage_.get(), sealer_.get(), Origin()},
                                      master_key_);
    if (!keys.ok()) return keys.status();
    keys_ = *std::move(keys);
    AuditLog::Options options;
    options.origin = Origin();
    options.agency_id = kAgency;
    options.signer = keys_->signer();
    options.earlier_verifier_keys = keys_->EarlierVerifierKeys();
    options.sealer = sealer_.get();
    options.storage = storage_.get();
    options.clock = &clock_;
    auto log = AuditLog::Open(std::move(options));
    if (!log.ok()) return log.status();
    log_ = *std::move(log);
    recorder_ = std::make_unique<AuditRecorder>(kAgency, log_.get(),
                                                &pseudonym_key_, &clock_);
    return absl::OkStatus();
  }

  void Close() {
    recorder_.reset();
    log_.reset();
    keys_.reset();
  }

  absl::Status Restart(FaultInjectingStorage::Unsynced unsynced =
                           FaultInjectingStorage::Unsynced::kDrop) {
    Close();
    storage_ = storage_->Restart(unsynced);
    return Open();
  }

  static std::string Origin() { return client::LogOrigin(kAgency); }

  // The key derived from the master key: the one before any rotation.
  std::string DerivedKey() {
    auto signer = crypto::Ed25519Signer::FromSeed(
        *crypto::DeriveSigningSeed(master_key_));
    const auto& pk = (*signer)->public_key();
    return *client::FormatVerifierKey(Origin(),
                                      std::string(pk.begin(), pk.end()));
  }

  absl::Status AppendEntry() {
    haven::v1::AuditEntry entry;
    entry.set_kind(haven::v1::POLICY_LOADED);
    return recorder_->Record(entry, "admin", "").status();
  }

  // Every leaf of the log.
  std::vector<std::string> Leaves() {
    std::vector<std::string> leaves;
    while (leaves.size() < log_->Size()) {
      auto page = log_->GetEntries(leaves.size(), 1000);
      EXPECT_THAT(page.status(), IsOk());
      if (!page.ok()) break;
      for (const auto& e : *page) leaves.push_back(e.leaf());
    }
    return leaves;
  }

  // Whether the latest checkpoint verifies under `vkey`.
  bool LatestSignedBy(const std::string& vkey) {
    auto key = client::ParseVerifierKey(vkey);
    return key.ok() && client::VerifyCheckpoint(log_->LatestCheckpoint().note(),
                                                *key, Origin())
                           .ok();
  }

  FakeClock clock_{1'790'000'000};
  crypto::SecretBytes master_key_;
  crypto::SecretBytes pseudonym_key_;
  std::unique_ptr<crypto::StateSealer> sealer_;
  std::unique_ptr<FaultInjectingStorage> storage_;
  std::unique_ptr<SigningKeyStore> keys_;
  std::unique_ptr<AuditLog> log_;
  std::unique_ptr<AuditRecorder> recorder_;
};

TEST_F(SigningKeyStoreTest, StartsWithTheKeyDerivedFromTheMasterKey) {
  EXPECT_EQ(keys_->VerifierKey(), DerivedKey());
  EXPECT_EQ(log_->VerifierKey(), DerivedKey());
  EXPECT_TRUE(keys_->EarlierVerifierKeys().empty());
}

TEST_F(SigningKeyStoreTest, RotationLogsTheSwitchAndLaterCheckpointsUseNewKey) {
  ASSERT_THAT(AppendEntry(), IsOk());
  const std::string old_key = keys_->VerifierKey();
  auto rotated = keys_->Rotate(*recorder_, "admin");
  ASSERT_THAT(rotated.status(), IsOk());
  EXPECT_EQ(rotated->old_verifier_key, old_key);
  EXPECT_NE(rotated->new_verifier_key, old_key);
  EXPECT_EQ(keys_->VerifierKey(), rotated->new_verifier_key);
  EXPECT_EQ(log_->VerifierKey(), rotated->new_verifier_key);

  // The switch's own commit is the old key's last checkpoint.
  const uint64_t switch_size = rotated->audit_index + 1;
  EXPECT_EQ(log_->Size(), switch_size);
  EXPECT_TRUE(LatestSignedBy(old_key));
  EXPECT_FALSE(LatestSignedBy(rotated->new_verifier_key));

  auto entries = log_->GetEntries(rotated->audit_index, 1);
  ASSERT_THAT(entries.status(), IsOk());
  const haven::v1::AuditEntry& entry = (*entries)[0].entry();
  EXPECT_EQ(entry.kind(), haven::v1::SIGNING_KEY_ROTATED);
  EXPECT_EQ(entry.principal(), "admin");
  EXPECT_EQ(entry.key_switch().old_verifier_key(), old_key);
  EXPECT_EQ(entry.key_switch().new_verifier_key(), rotated->new_verifier_key);
  EXPECT_EQ(entry.key_switch().tree_size(), switch_size);
  EXPECT_THAT(client::VerifyKeySwitch(entry.key_switch(), Origin()), IsOk());

  // Every later checkpoint is the new key's.
  ASSERT_THAT(AppendEntry(), IsOk());
  EXPECT_TRUE(LatestSignedBy(rotated->new_verifier_key));
  EXPECT_FALSE(LatestSignedBy(old_key));

  auto chain = client::LogSigningKeys::FromLeaves(Leaves(), Origin());
  ASSERT_THAT(chain.status(), IsOk());
  EXPECT_EQ(chain->KeyFor(switch_size, ""), old_key);
  EXPECT_EQ(chain->KeyFor(switch_size + 1, ""), rotated->new_verifier_key);
}

TEST_F(SigningKeyStoreTest, RestartAfterRotationKeepsTheNewKey) {
  auto rotated = keys_->Rotate(*recorder_, "admin");
  ASSERT_THAT(rotated.status(), IsOk());
  // Restarted before the new key signed anything: the stored checkpoint and
  // the side file's are the old key's, and still the node's own.
  ASSERT_THAT(Restart(), IsOk());
  EXPECT_EQ(keys_->VerifierKey(), rotated->new_verifier_key);
  EXPECT_THAT(keys_->EarlierVerifierKeys(),
              ::testing::ElementsAre(rotated->old_verifier_key));
  EXPECT_THAT(log_->VerifierKeys(),
              ::testing::ElementsAre(rotated->new_verifier_key,
                                     rotated->old_verifier_key));
  ASSERT_THAT(AppendEntry(), IsOk());
  EXPECT_TRUE(LatestSignedBy(rotated->new_verifier_key));
  ASSERT_THAT(Restart(), IsOk());
  EXPECT_EQ(keys_->VerifierKey(), rotated->new_verifier_key);

  // A second rotation hands over from the second key.
  auto again = keys_->Rotate(*recorder_, "admin");
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->old_verifier_key, rotated->new_verifier_key);
  ASSERT_THAT(AppendEntry(), IsOk());
  ASSERT_THAT(Restart(), IsOk());
  EXPECT_EQ(keys_->VerifierKey(), again->new_verifier_key);
  auto chain = client::LogSigningKeys::FromLeaves(Leaves(), Origin());
  ASSERT_THAT(chain.status(), IsOk());
  EXPECT_THAT(chain->Keys(), ::testing::ElementsAre(rotated->old_verifier_key,
                                                    rotated->new_verifier_key,
                                                    again->new_verifier_key));
}

TEST_F(SigningKeyStoreTest, FailedWriteKeepsTheOldKeyInForce) {
  ASSERT_THAT(AppendEntry(), IsOk());
  const std::string old_key = keys_->VerifierKey();
  storage_->FailWriteAt(storage_->writes());
  EXPECT_THAT(keys_->Rotate(*recorder_, "admin").status(),
              StatusIs(absl::StatusCode::kUnavailable));
  // Not durable, so not in force.
  EXPECT_EQ(keys_->VerifierKey(), old_key);
  EXPECT_EQ(log_->VerifierKey(), old_key);
  // Nothing reached the disk: the restarted node has the old key.
  ASSERT_THAT(Restart(), IsOk());
  EXPECT_EQ(keys_->VerifierKey(), old_key);
  EXPECT_TRUE(keys_->EarlierVerifierKeys().empty());
  ASSERT_THAT(AppendEntry(), IsOk());
  EXPECT_TRUE(LatestSignedBy(old_key));
}

TEST_F(SigningKeyStoreTest, FailedSyncThatReachedDiskKeepsTheSwitch) {
  ASSERT_THAT(AppendEntry(), IsOk());
  const std::string old_key = keys_->VerifierKey();
  storage_->FailSyncAt(storage_->writes());
  EXPECT_THAT(keys_->Rotate(*recorder_, "admin").status(),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(keys_->VerifierKey(), old_key);

  // The write reached the disk after all: the restarted node loads the new
  // key, and the log keeps the switch (like an erasure) rather than undo
  // it, so its key switches still say which key signed what.
  ASSERT_THAT(Restart(FaultInjectingStorage::Unsynced::kKeep), IsOk());
  EXPECT_NE(keys_->VerifierKey(), old_key);
  EXPECT_TRUE(log_->recovery().unconfirmed_commit);
  ASSERT_THAT(AppendEntry(), IsOk());
  EXPECT_TRUE(LatestSignedBy(keys_->VerifierKey()));
  auto chain = client::LogSigningKeys::FromLeaves(Leaves(), Origin());
  ASSERT_THAT(chain.status(), IsOk());
  ASSERT_TRUE(chain->rotated());
  EXPECT_EQ(chain->KeyFor(log_->Size(), ""), keys_->VerifierKey());
}

TEST_F(SigningKeyStoreTest, StoredKeyIsSealed) {
  auto rotated = keys_->Rotate(*recorder_, "admin");
  ASSERT_THAT(rotated.status(), IsOk());
  auto stored = storage_->Get(storage::Family::kMeta, "signing-key");
  ASSERT_THAT(stored.status(), IsOk());
  ASSERT_TRUE(stored->has_value());
  // An edited value does not open: the node stops rather than sign with
  // another key.
  std::string tampered = **stored;
  tampered.back() ^= 1;
  storage_->Tamper(storage::Family::kMeta, "signing-key", tampered);
  Close();
  EXPECT_THAT(SigningKeyStore::Open({storage_.get(), sealer_.get(), Origin()},
                                    master_key_)
                  .status(),
              StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace haven::server::audit
