// ConsentFanout: what a consent change means for the grantees, in the same
// commit: a handle offered to a newly covered agency, a handle withdrawn
// with a notice, and, while the handle stays, a notice of the change to a
// consent that covered the grantee.
#include "server/exchange/consent_fanout.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_log.h"
#include "tests/testing/test_manifest.h"
#include "tests/unit/consent/registry_fixture.h"

namespace haven::server::exchange {
namespace {

using ::haven::server::consent::testing::LegalAidTerms;
using ::haven::testing::IsOk;
using ::haven::testing::TestManifest;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class ConsentFanoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = haven::testing::TestLog::Create("safe-harbor");
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    federation_ = federation::FederationRegistry::ForManifest(TestManifest(
        {{"safe-harbor"}, {"legal-aid", haven::v1::LEGAL_SERVICES}}));
    handles_ = std::make_unique<HandleStore>(&log_->storage(), &log_->sealer());
    outbox_ = std::make_unique<PeerOutbox>(&log_->storage(), &log_->sealer(),
                                           &log_->log());
    fanout_ = std::make_unique<ConsentFanout>(ConsentFanout::Deps{
        "safe-harbor", &log_->clock(), &log_->signer(), federation_.get(),
        handles_.get(), outbox_.get(), &log_->recorder(), nullptr});
    auto consents = consent::ConsentRegistry::Create(
        consent::testing::RegistryOptions(*log_, fanout_.get()));
    ASSERT_THAT(consents, IsOk());
    consents_ = *std::move(consents);
  }

  // What the outbox holds, by kind: "offer" or the notice's change.
  std::vector<std::string> Sent() {
    std::vector<std::string> sent;
    outbox_->DeliverPending([&](const haven::v1::OutboxMessage& message) {
      sent.push_back(message.has_offer_handle()
                         ? "offer"
                         : message.revocation_notice().notice().change());
      return absl::OkStatus();
    });
    return sent;
  }
  std::string Record() {
    auto receipt =
        consents_->Record(LegalAidTerms(subject_), "advocate");
    EXPECT_THAT(receipt, IsOk());
    return receipt.ok() ? receipt->consent().consent_id() : "";
  }

  const std::string subject_ = std::string(32, 'a');
  std::unique_ptr<haven::testing::TestLog> log_;
  std::unique_ptr<federation::FederationRegistry> federation_;
  std::unique_ptr<HandleStore> handles_;
  std::unique_ptr<PeerOutbox> outbox_;
  std::unique_ptr<ConsentFanout> fanout_;
  std::unique_ptr<consent::ConsentRegistry> consents_;
};

TEST_F(ConsentFanoutTest, FirstConsentOffersAHandleAndRevocationWithdrawsIt) {
  const std::string id = Record();
  EXPECT_THAT(Sent(), ElementsAre("offer"));
  ASSERT_THAT(consents_->Revoke(id, "survivor asked", "advocate"), IsOk());
  EXPECT_THAT(Sent(), ElementsAre("revoked"));
}

TEST_F(ConsentFanoutTest, HandleKeptByAnotherConsentStillHearsOfAPause) {
  const std::string first = Record();
  Record();
  EXPECT_THAT(Sent(), ElementsAre("offer"));
  ASSERT_THAT(consents_->Pause(first, "case review", "advocate"), IsOk());
  EXPECT_THAT(Sent(), ElementsAre("paused"));
  ASSERT_THAT(consents_->Resume(first, "advocate"), IsOk());
  EXPECT_THAT(Sent(), IsEmpty());
}

}  // namespace
}  // namespace haven::server::exchange
