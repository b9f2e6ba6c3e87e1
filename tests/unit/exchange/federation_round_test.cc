#include "server/exchange/federation_round.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/stderr_capture.h"
#include "tests/testing/test_log.h"
#include "tests/testing/test_manifest.h"
#include "tests/unit/consent/registry_fixture.h"

namespace haven::server::exchange {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StderrCapture;
using ::haven::testing::TestManifest;
using ::testing::HasSubstr;
using ::testing::Not;

// A node alone in its federation but for a member that was removed: the
// witness has no active peer to reach, so a round runs without a network.
class FederationRoundTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = haven::testing::TestLog::Create("safe-harbor");
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    federation_ = federation::FederationRegistry::ForManifest(
        TestManifest({{"safe-harbor"}}));
    witness_ = std::make_unique<Witness>(Witness::Deps{
        "safe-harbor", &log_->storage(), federation_.get(), &peers_,
        &log_->log(), &log_->clock(), &log_->signer(), &log_->recorder(),
        /*on_answer=*/{}, /*metrics=*/nullptr});
    outbox_ = std::make_unique<PeerOutbox>(&log_->storage(), &log_->sealer(),
                                           &log_->log());
    auto consents = consent::ConsentRegistry::Create(
        consent::testing::RegistryOptions(*log_));
    ASSERT_THAT(consents, IsOk());
    consents_ = *std::move(consents);
    round_ = std::make_unique<FederationRound>(FederationRound::Deps{
        federation_.get(), witness_.get(), consents_.get(), outbox_.get(),
        [this](const haven::v1::OutboxMessage& message) {
          sent_.push_back(message.to_agency_id());
          return absl::NotFoundError("peer is no longer in the federation");
        }});
  }

  // An offer to `agency` in the outbox, as a consent change leaves one.
  void AddOffer(const std::string& agency) {
    haven::v1::OutboxMessage message;
    message.set_to_agency_id(agency);
    message.mutable_offer_handle()->mutable_handle()->set_handle("h1");
    storage::WriteBatch batch;
    outbox_->Add(std::move(message), absl::FromUnixSeconds(log_->kNow),
                 &batch);
    ASSERT_THAT(log_->log().CommitState(std::move(batch)), IsOk());
  }

  std::unique_ptr<haven::testing::TestLog> log_;
  std::unique_ptr<federation::FederationRegistry> federation_;
  PeerClient peers_{PeerClient::Tls{}, absl::Seconds(1)};
  std::unique_ptr<Witness> witness_;
  std::unique_ptr<PeerOutbox> outbox_;
  std::unique_ptr<consent::ConsentRegistry> consents_;
  std::unique_ptr<FederationRound> round_;
  std::vector<std::string> sent_;
};

TEST_F(FederationRoundTest, FirstRoundWitnessesThenReconcilesThenDelivers) {
  AddOffer("gone");
  StderrCapture capture;
  round_->RunOnce();
  const std::string logged = capture.Release();
  const size_t witnessed = logged.find("peers_witnessed verified=0");
  const size_t reconciled = logged.find("membership_handles subjects_changed=0");
  const size_t delivered = logged.find("peer_outbox");
  ASSERT_NE(witnessed, std::string::npos) << logged;
  ASSERT_NE(reconciled, std::string::npos) << logged;
  ASSERT_NE(delivered, std::string::npos) << logged;
  EXPECT_LT(witnessed, reconciled);
  EXPECT_LT(reconciled, delivered);
  EXPECT_EQ(sent_, std::vector<std::string>{"gone"});
}

TEST_F(FederationRoundTest, OnlyTheFirstRoundReconcilesEveryMember) {
  StderrCapture first;
  round_->RunOnce();
  EXPECT_THAT(first.Release(), HasSubstr("membership_handles"));
  StderrCapture second;
  round_->RunOnce();
  const std::string logged = second.Release();
  EXPECT_THAT(logged, HasSubstr("peers_witnessed"));
  EXPECT_THAT(logged, Not(HasSubstr("membership_handles")));
}

TEST_F(FederationRoundTest, EmptyOutboxAndNoChangesLogNothingButTheWitness) {
  round_->RunOnce();
  StderrCapture capture;
  round_->RunOnce();
  const std::string logged = capture.Release();
  EXPECT_THAT(logged, Not(HasSubstr("peer_outbox")));
  EXPECT_THAT(logged, Not(HasSubstr("consents_expired")));
}

TEST_F(FederationRoundTest, ReconcilingNoAgenciesDoesNothing) {
  StderrCapture capture;
  round_->ReconcileMembers({});
  EXPECT_EQ(capture.Release(), "");
}

}  // namespace
}  // namespace haven::server::exchange
