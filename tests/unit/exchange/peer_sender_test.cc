#include "server/exchange/peer_sender.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/exchange/peer_outbox.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/stderr_capture.h"
#include "tests/testing/test_manifest.h"

namespace haven::server::exchange {
namespace {

using ::haven::testing::StatusIs;
using ::haven::testing::StderrCapture;
using ::haven::testing::TestManifest;
using ::testing::HasSubstr;
using ::testing::Not;

haven::v1::OutboxMessage OfferTo(const std::string& agency) {
  haven::v1::OutboxMessage message;
  message.set_to_agency_id(agency);
  message.mutable_offer_handle()->mutable_handle()->set_handle("h1");
  return message;
}

class PeerSenderTest : public ::testing::Test {
 protected:
  // Every member's endpoint is 127.0.0.1:1, where nothing listens.
  std::unique_ptr<federation::FederationRegistry> federation_ =
      federation::FederationRegistry::ForManifest(
          TestManifest({{"safe-harbor"},
                        {"legal-aid", haven::v1::LEGAL_SERVICES},
                        {"metro-pd", haven::v1::LAW_ENFORCEMENT,
                         haven::v1::MEMBER_SUSPENDED}}));
  PeerClient peers_{PeerClient::Tls{}, absl::Seconds(2)};
  PeerSender sender_{federation_.get(), &peers_};
};

TEST_F(PeerSenderTest, MemberNoLongerListedIsNotContacted) {
  StderrCapture capture;
  EXPECT_THAT(sender_.Send(OfferTo("gone")),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(capture.Release(), "");
}

// Refused for good: the outbox drops what a suspended member was owed
// rather than delivering it if the member is reinstated.
TEST_F(PeerSenderTest, SuspendedMemberIsNotContactedAndItsMessageIsDropped) {
  StderrCapture capture;
  absl::Status sent = sender_.AsSender()(OfferTo("metro-pd"));
  EXPECT_THAT(sent, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_TRUE(PeerOutbox::IsPermanent(sent));
  EXPECT_EQ(capture.Release(), "");
}

TEST_F(PeerSenderTest, UnreachablePeerIsLoggedAsAFailedSend) {
  StderrCapture capture;
  EXPECT_THAT(sender_.Send(OfferTo("legal-aid")),
              Not(StatusIs(absl::StatusCode::kOk)));
  haven::v1::OutboxMessage notice;
  notice.set_to_agency_id("legal-aid");
  notice.mutable_revocation_notice();
  EXPECT_THAT(sender_.Send(notice), Not(StatusIs(absl::StatusCode::kOk)));
  const std::string logged = capture.Release();
  EXPECT_THAT(logged, HasSubstr("handle_send_failed to=legal-aid"));
  EXPECT_THAT(logged, HasSubstr("revocation_notice_failed to=legal-aid"));
}

}  // namespace
}  // namespace haven::server::exchange
