#include "server/exchange/checkpoint_exchange.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/base/limits.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_log.h"

namespace haven::server::exchange {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;

class CheckpointExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = haven::testing::TestLog::Create();
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    cosignatures_ = std::make_unique<CosignatureStore>(
        CosignatureStore::Deps{&log_->storage(), &log_->log(), &log_->clock()});
    exchange_ = std::make_unique<CheckpointExchange>(CheckpointExchange::Deps{
        &log_->log(), cosignatures_.get(),
        [this](const haven::v1::Member& peer,
               const haven::v1::ExchangeCheckpointRequest& request) {
          contacts_.push_back(peer.agency_id());
          serials_heard_.push_back(request.manifest_serial());
        },
        [] { return uint64_t{7}; },
        [this](
            const std::string& agency) -> std::optional<haven::v1::Checkpoint> {
          auto found = witnessed_.find(agency);
          if (found == witnessed_.end()) return std::nullopt;
          return found->second;
        }});
    peer_.set_agency_id("legal-aid");
    for (int i = 0; i < 3; ++i) {
      haven::v1::AuditEntry entry;
      entry.set_kind(haven::v1::RECORD_READ);
      ASSERT_THAT(log_->recorder().Record(entry, "caseworker", ""), IsOk());
    }
  }

  std::unique_ptr<haven::testing::TestLog> log_;
  std::unique_ptr<CosignatureStore> cosignatures_;
  std::unique_ptr<CheckpointExchange> exchange_;
  haven::v1::Member peer_;
  std::vector<std::string> contacts_;
  // The manifest serials callers said they hold.
  std::vector<uint64_t> serials_heard_;
  // What this node witnessed of each peer's log.
  std::map<std::string, haven::v1::Checkpoint> witnessed_;
};

// Gossip rides the exchange both ways: the caller's serial reaches the
// node's contact hook, and the answer carries the node's own.
TEST_F(CheckpointExchangeTest, ManifestSerialsTravelBothWays) {
  haven::v1::ExchangeCheckpointRequest request;
  request.set_manifest_serial(9);
  auto answer = exchange_->Answer(peer_, request);
  ASSERT_THAT(answer, IsOk());
  EXPECT_EQ(answer->manifest_serial(), 7u);
  EXPECT_EQ(serials_heard_, std::vector<uint64_t>{9});
}

TEST_F(CheckpointExchangeTest,
       AnswersLatestCheckpointWithProofFromWhatPeerSaw) {
  haven::v1::ExchangeCheckpointRequest request;
  request.set_seen_size(1);
  auto answer = exchange_->Answer(peer_, request);
  ASSERT_THAT(answer, IsOk());
  EXPECT_EQ(answer->checkpoint().tree_size(),
            log_->log().LatestCheckpoint().tree_size());
  EXPECT_EQ(contacts_, std::vector<std::string>{"legal-aid"});
  if (answer->checkpoint().tree_size() > 1) {
    EXPECT_TRUE(answer->has_proof());
  }
}

// The caller learns how far this node saw its log, so that it can tell
// whether its own log went back (rollback_guard.h); a caller never
// witnessed learns nothing.
TEST_F(CheckpointExchangeTest, AnswerCarriesTheCallersCheckpointAsWitnessed) {
  auto first = exchange_->Answer(peer_, {});
  ASSERT_THAT(first, IsOk());
  EXPECT_FALSE(first->has_caller_witnessed());

  haven::v1::Checkpoint seen;
  seen.set_note("legal-aid.haven/log\n12\nroot\n\n- signature\n");
  seen.set_tree_size(12);
  witnessed_["legal-aid"] = seen;
  auto answer = exchange_->Answer(peer_, {});
  ASSERT_THAT(answer, IsOk());
  ASSERT_TRUE(answer->has_caller_witnessed());
  EXPECT_EQ(answer->caller_witnessed().note(), seen.note());
  EXPECT_EQ(answer->caller_witnessed().tree_size(), 12u);
}

TEST_F(CheckpointExchangeTest, FirstContactGetsNoProof) {
  auto answer = exchange_->Answer(peer_, {});
  ASSERT_THAT(answer, IsOk());
  EXPECT_FALSE(answer->has_proof());
}

TEST_F(CheckpointExchangeTest, OversizedNoteIsRefusedBeforeContactCounts) {
  haven::v1::ExchangeCheckpointRequest request;
  request.mutable_checkpoint()->set_note(
      std::string(limits::kMaxCheckpointNoteBytes + 1, 'x'));
  EXPECT_THAT(exchange_->Answer(peer_, request),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(contacts_.empty());
}

TEST_F(CheckpointExchangeTest, PeerThatSawALargerTreeIsRefused) {
  haven::v1::ExchangeCheckpointRequest request;
  request.set_seen_size(log_->log().LatestCheckpoint().tree_size() + 1);
  EXPECT_THAT(exchange_->Answer(peer_, request),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace haven::server::exchange
