#include "server/exchange/peer_outbox.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_log.h"

namespace haven::server::exchange {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;

haven::v1::OutboxMessage OfferTo(const std::string& agency,
                                 const std::string& handle) {
  haven::v1::OutboxMessage message;
  message.set_to_agency_id(agency);
  message.mutable_offer_handle()->mutable_handle()->set_handle(handle);
  return message;
}

class PeerOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = haven::testing::TestLog::Create();
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    Open();
  }
  void Open() {
    outbox_ = std::make_unique<PeerOutbox>(&log_->storage(), &log_->sealer(),
                                           &log_->log());
  }
  // Stores `message` as a consent change would, in one commit.
  absl::Status Add(haven::v1::OutboxMessage message, absl::Time when) {
    storage::WriteBatch batch;
    outbox_->Add(std::move(message), when, &batch);
    return log_->log().CommitState(std::move(batch));
  }
  // A sender that records what it was given and answers with `answer`.
  PeerOutbox::Sender Answering(absl::Status answer) {
    return [this, answer](const haven::v1::OutboxMessage& message) {
      sent_.push_back(message);
      return answer;
    };
  }

  std::unique_ptr<haven::testing::TestLog> log_;
  std::unique_ptr<PeerOutbox> outbox_;
  std::vector<haven::v1::OutboxMessage> sent_;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

TEST_F(PeerOutboxTest,
       UnreachablePeerGetsItsMessageOnALaterPassEvenAfterRestart) {
  ASSERT_THAT(Add(OfferTo("legal-aid", "h1"), now_), IsOk());
  ASSERT_THAT(Add(OfferTo("metro-pd", "h2"), now_ + absl::Seconds(1)), IsOk());

  auto pass = outbox_->DeliverPending(
      Answering(absl::UnavailableError("peer 'legal-aid' unreachable")));
  EXPECT_EQ(pass.pending, 2);
  EXPECT_EQ(pass.delivered, 0);

  outbox_.reset();
  ASSERT_THAT(log_->Restart(), IsOk());  // nothing owed is forgotten
  Open();
  sent_.clear();
  pass = outbox_->DeliverPending(Answering(absl::OkStatus()));
  EXPECT_EQ(pass.delivered, 2);
  ASSERT_EQ(sent_.size(), 2u);
  // Oldest first.
  EXPECT_EQ(sent_[0].offer_handle().handle().handle(), "h1");
  EXPECT_EQ(sent_[0].created_unix(), absl::ToUnixSeconds(now_));
  EXPECT_EQ(sent_[1].offer_handle().handle().handle(), "h2");

  // Delivered messages are gone.
  sent_.clear();
  pass = outbox_->DeliverPending(Answering(absl::OkStatus()));
  EXPECT_EQ(pass.delivered + pass.pending + pass.dropped, 0);
  EXPECT_TRUE(sent_.empty());
}

TEST_F(PeerOutboxTest, PeerThatIsDownIsTriedOncePerPass) {
  ASSERT_THAT(Add(OfferTo("legal-aid", "h1"), now_), IsOk());
  ASSERT_THAT(Add(OfferTo("legal-aid", "h2"), now_), IsOk());
  ASSERT_THAT(Add(OfferTo("metro-pd", "h3"), now_), IsOk());
  auto pass =
      outbox_->DeliverPending([this](const haven::v1::OutboxMessage& message) {
        sent_.push_back(message);
        return message.to_agency_id() == "legal-aid"
                   ? absl::UnavailableError("unreachable")
                   : absl::OkStatus();
      });
  EXPECT_EQ(sent_.size(), 2u);  // one try for legal-aid, one for metro-pd
  EXPECT_EQ(pass.pending, 2);
  EXPECT_EQ(pass.delivered, 1);
}

TEST_F(PeerOutboxTest, PermanentRefusalDropsTheMessage) {
  ASSERT_THAT(Add(OfferTo("legal-aid", "h1"), now_), IsOk());
  auto pass = outbox_->DeliverPending(
      Answering(absl::PermissionDeniedError("handle is not for this agency")));
  EXPECT_EQ(pass.dropped, 1);
  sent_.clear();
  pass = outbox_->DeliverPending(Answering(absl::OkStatus()));
  EXPECT_TRUE(sent_.empty());
}

TEST_F(PeerOutboxTest, OnlyRefusalsRetryingCannotChangeArePermanent) {
  EXPECT_TRUE(PeerOutbox::IsPermanent(absl::PermissionDeniedError("")));
  EXPECT_TRUE(PeerOutbox::IsPermanent(absl::UnauthenticatedError("")));
  EXPECT_TRUE(PeerOutbox::IsPermanent(absl::NotFoundError("")));
  EXPECT_TRUE(PeerOutbox::IsPermanent(absl::InvalidArgumentError("")));
  EXPECT_FALSE(PeerOutbox::IsPermanent(absl::UnavailableError("")));
  EXPECT_FALSE(PeerOutbox::IsPermanent(absl::DeadlineExceededError("")));
  EXPECT_FALSE(PeerOutbox::IsPermanent(absl::FailedPreconditionError("")));
  EXPECT_FALSE(PeerOutbox::IsPermanent(absl::UnimplementedError("")));
}

TEST_F(PeerOutboxTest, AlteredMessageIsNeverSent) {
  ASSERT_THAT(Add(OfferTo("legal-aid", "h1"), now_), IsOk());
  const std::vector<std::string> keys =
      log_->storage().Keys(storage::Family::kExchange);
  ASSERT_EQ(keys.size(), 1u);
  std::string value =
      **log_->storage().Get(storage::Family::kExchange, keys[0]);
  EXPECT_EQ(value.find("legal-aid"), std::string::npos);  // sealed
  value[value.size() - 1] ^= 0x01;
  log_->storage().Tamper(storage::Family::kExchange, keys[0], value);
  auto pass = outbox_->DeliverPending(Answering(absl::OkStatus()));
  EXPECT_TRUE(sent_.empty());
  EXPECT_THAT(pass.status, StatusIs(absl::StatusCode::kDataLoss));
}

// A pass asked for while one is running is not lost: the running pass goes
// round again and sends what was added meanwhile.
TEST_F(PeerOutboxTest, PassRequestedDuringAPassRunsAfterIt) {
  ASSERT_THAT(Add(OfferTo("legal-aid", "h1"), now_), IsOk());
  int nested_result = -1;
  auto pass =
      outbox_->DeliverPending([&](const haven::v1::OutboxMessage& message) {
        sent_.push_back(message);
        if (message.offer_handle().handle().handle() == "h1") {
          EXPECT_THAT(Add(OfferTo("legal-aid", "h2"), now_ + absl::Seconds(1)),
                      IsOk());
          auto nested = outbox_->DeliverPending(Answering(absl::OkStatus()));
          nested_result = nested.delivered;
        }
        return absl::OkStatus();
      });
  EXPECT_EQ(nested_result, 0);  // returned at once
  EXPECT_EQ(pass.delivered, 2);
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[1].offer_handle().handle().handle(), "h2");
}

}  // namespace
}  // namespace haven::server::exchange
