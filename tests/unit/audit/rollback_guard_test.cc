#include "server/audit/rollback_guard.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_log.h"

namespace haven::server::audit {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::haven::testing::TestLog;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kReason[] = "restored after the disk died; revocations re-done";

// The node's log, and a second log under the same key and origin: what
// the node's log was (or became) in another copy of its data dir.
class RollbackGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = TestLog::Create();
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    auto other = TestLog::Create();
    ASSERT_THAT(other, IsOk());
    other_copy_ = *std::move(other);
  }

  void OpenGuard() {
    guard_.reset();
    auto guard = RollbackGuard::Open(RollbackGuard::Deps{
        &log_->storage(), &log_->recorder(), [this] { return peers_; }});
    ASSERT_THAT(guard, IsOk());
    guard_ = *std::move(guard);
  }

  static void Append(TestLog& log, int count, const std::string& detail) {
    for (int i = 0; i < count; ++i) {
      haven::v1::AuditEntry entry;
      entry.set_kind(haven::v1::RECORD_WRITTEN);
      entry.set_detail(detail);
      ASSERT_THAT(log.recorder().Record(entry, "caseworker", ""), IsOk());
    }
  }

  std::vector<haven::v1::EntryKind> Kinds() {
    auto entries = log_->log().GetEntries(0, 1000);
    EXPECT_THAT(entries, IsOk());
    std::vector<haven::v1::EntryKind> kinds;
    if (!entries.ok()) return kinds;
    for (const auto& e : *entries) {
      if (e.entry().kind() != haven::v1::RECORD_WRITTEN) {
        kinds.push_back(e.entry().kind());
      }
    }
    return kinds;
  }

  void MarkRestored() {
    haven::v1::BackupInfo info;
    info.set_format("haven-backup/1");
    info.set_agency_id("safe-harbor");
    info.set_taken_unix(TestLog::kNow - 3600);
    info.set_tree_size(log_->log().Size());
    ASSERT_THAT(log_->storage().WriteSideFile(kRestoredSideFile,
                                              info.SerializeAsString()),
                IsOk());
  }

  std::unique_ptr<TestLog> log_;
  std::unique_ptr<TestLog> other_copy_;
  std::vector<std::string> peers_ = {"legal-aid", "metro-pd"};
  std::unique_ptr<RollbackGuard> guard_;
};

TEST_F(RollbackGuardTest, PeerThatSawMoreOfTheLogHoldsPeersUntilAcknowledged) {
  // The copy went further (the node before its disk died); the node now
  // runs on an older copy.
  Append(*other_copy_, 10, "before");
  Append(*log_, 5, "before");
  const haven::v1::Checkpoint seen = other_copy_->log().LatestCheckpoint();
  OpenGuard();
  ASSERT_THAT(guard_->CheckServingPeers(), IsOk());

  EXPECT_TRUE(guard_->OnPeerAnswered("legal-aid", &seen));
  EXPECT_THAT(guard_->CheckServingPeers(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("'legal-aid' witnessed it at 10 entries")));
  EXPECT_EQ(guard_->State().state(), haven::v1::PeerServingState::ROLLED_BACK);
  // Shown again at the next round: logged once.
  EXPECT_TRUE(guard_->OnPeerAnswered("legal-aid", &seen));
  EXPECT_THAT(Kinds(), ElementsAre(haven::v1::ROLLBACK_DETECTED));

  // A restart does not forget it.
  ASSERT_THAT(log_->Restart(), IsOk());
  OpenGuard();
  EXPECT_THAT(guard_->CheckServingPeers(),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  EXPECT_THAT(guard_->Acknowledge("admin", "ok"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto acknowledged = guard_->Acknowledge("admin", kReason);
  ASSERT_THAT(acknowledged, IsOk());
  EXPECT_THAT(guard_->CheckServingPeers(), IsOk());
  auto entry = log_->log().GetEntries(*acknowledged, 1);
  ASSERT_THAT(entry, IsOk());
  EXPECT_EQ((*entry)[0].entry().kind(), haven::v1::ROLLBACK_ACKNOWLEDGED);
  EXPECT_EQ((*entry)[0].entry().principal(), "admin");
  EXPECT_EQ((*entry)[0].entry().justification(), kReason);

  // The peer keeps the checkpoint it witnessed before and shows it at
  // every round: acknowledged, it holds nothing again, across a restart.
  EXPECT_TRUE(guard_->OnPeerAnswered("legal-aid", &seen));
  ASSERT_THAT(log_->Restart(), IsOk());
  OpenGuard();
  EXPECT_TRUE(guard_->OnPeerAnswered("legal-aid", &seen));
  EXPECT_THAT(guard_->CheckServingPeers(), IsOk());
  EXPECT_THAT(guard_->Acknowledge("admin", kReason),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(RollbackGuardTest, ADifferentLogAtTheSameSizeIsAFork) {
  Append(*other_copy_, 6, "one history");
  Append(*log_, 8, "another history");
  const haven::v1::Checkpoint seen = other_copy_->log().LatestCheckpoint();
  OpenGuard();
  EXPECT_TRUE(guard_->OnPeerAnswered("metro-pd", &seen));
  EXPECT_THAT(guard_->CheckServingPeers(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("different root")));
}

TEST_F(RollbackGuardTest,
       CheckpointsTheLogExtendsOrThatItDidNotSignProveNothing) {
  Append(*log_, 3, "x");
  const haven::v1::Checkpoint earlier = log_->log().LatestCheckpoint();
  Append(*log_, 3, "y");
  OpenGuard();
  EXPECT_TRUE(guard_->OnPeerAnswered("legal-aid", &earlier));
  EXPECT_THAT(guard_->CheckServingPeers(), IsOk());

  // Signed for another log: a peer cannot make up evidence.
  auto stranger = TestLog::Create("metro-pd");
  ASSERT_THAT(stranger, IsOk());
  Append(**stranger, 20, "z");
  const haven::v1::Checkpoint foreign = (*stranger)->log().LatestCheckpoint();
  EXPECT_FALSE(guard_->OnPeerAnswered("legal-aid", &foreign));
  haven::v1::Checkpoint tampered = earlier;
  tampered.set_note(absl::StrReplaceAll(tampered.note(), {{"\n3\n", "\n9\n"}}));
  EXPECT_FALSE(guard_->OnPeerAnswered("legal-aid", &tampered));
  EXPECT_THAT(guard_->CheckServingPeers(), IsOk());
  EXPECT_TRUE(Kinds().empty());
}

TEST_F(RollbackGuardTest, RestoredNodeWaitsForEveryActivePeer) {
  Append(*log_, 4, "x");
  const haven::v1::Checkpoint witnessed = log_->log().LatestCheckpoint();
  MarkRestored();
  OpenGuard();
  EXPECT_THAT(Kinds(), ElementsAre(haven::v1::RESTORED_FROM_BACKUP));
  haven::v1::PeerServingState state = guard_->State();
  EXPECT_EQ(state.state(), haven::v1::PeerServingState::AWAITING_PEERS);
  EXPECT_THAT(state.awaiting(), ElementsAre("legal-aid", "metro-pd"));
  EXPECT_THAT(guard_->CheckServingPeers(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("restored from a backup")));

  // A peer that never witnessed this node confirms nothing is missing.
  EXPECT_TRUE(guard_->OnPeerAnswered("legal-aid", nullptr));
  EXPECT_THAT(guard_->State().awaiting(), ElementsAre("metro-pd"));
  // Restarting before the last answer: still waiting, logged once.
  ASSERT_THAT(log_->Restart(), IsOk());
  OpenGuard();
  EXPECT_EQ(guard_->State().state(),
            haven::v1::PeerServingState::AWAITING_PEERS);
  EXPECT_THAT(Kinds(), ElementsAre(haven::v1::RESTORED_FROM_BACKUP));

  EXPECT_TRUE(guard_->OnPeerAnswered("legal-aid", nullptr));
  EXPECT_TRUE(guard_->OnPeerAnswered("metro-pd", &witnessed));
  EXPECT_THAT(guard_->CheckServingPeers(), IsOk());
  ASSERT_THAT(log_->Restart(), IsOk());
  OpenGuard();
  EXPECT_THAT(guard_->CheckServingPeers(), IsOk());
}

TEST_F(RollbackGuardTest, AdminMayAcknowledgeARestoreWhosePeersAreUnreachable) {
  MarkRestored();
  OpenGuard();
  auto acknowledged = guard_->Acknowledge("admin", kReason);
  ASSERT_THAT(acknowledged, IsOk());
  EXPECT_THAT(guard_->CheckServingPeers(), IsOk());
  EXPECT_THAT(Kinds(), ElementsAre(haven::v1::RESTORED_FROM_BACKUP,
                                   haven::v1::ROLLBACK_ACKNOWLEDGED));
  ASSERT_THAT(log_->Restart(), IsOk());
  OpenGuard();
  EXPECT_THAT(guard_->CheckServingPeers(), IsOk());
}

TEST_F(RollbackGuardTest, RestoredNodeWithNoActivePeerHasNoneToWaitFor) {
  peers_.clear();
  MarkRestored();
  OpenGuard();
  EXPECT_THAT(guard_->CheckServingPeers(), IsOk());
  EXPECT_EQ(guard_->State().state(), haven::v1::PeerServingState::SERVING);
}

TEST_F(RollbackGuardTest, UnreadableRecordStopsTheStart) {
  ASSERT_THAT(log_->storage().WriteSideFile(kRollbackSideFile, "\xff\xff"),
              IsOk());
  auto guard = RollbackGuard::Open(RollbackGuard::Deps{
      &log_->storage(), &log_->recorder(), [this] { return peers_; }});
  EXPECT_THAT(guard, StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace haven::server::audit
