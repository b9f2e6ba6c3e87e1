#include "server/federation/membership.h"

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_manifest.h"

namespace haven::server::federation {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::haven::testing::TestManifest;

class MembershipTest : public ::testing::Test {
 protected:
  std::shared_ptr<const Manifest> manifest_ = TestManifest(
      {{"safe-harbor"},
       {"legal-aid", haven::v1::LEGAL_SERVICES},
       {"metro-pd", haven::v1::LAW_ENFORCEMENT, haven::v1::MEMBER_SUSPENDED}});
  const std::string self_ = "safe-harbor";
};

haven::v1::Grantee Agency(const std::string& id) {
  haven::v1::Grantee grantee;
  grantee.set_agency_id(id);
  return grantee;
}

TEST_F(MembershipTest, ActiveMemberMayBeGranted) {
  EXPECT_THAT(CheckGrantee(*manifest_, self_, Agency("legal-aid")), IsOk());
}

TEST_F(MembershipTest, SectorMayAlwaysBeGranted) {
  haven::v1::Grantee sector;
  sector.set_sector(haven::v1::HEALTH);
  EXPECT_THAT(CheckGrantee(*manifest_, self_, sector), IsOk());
}

TEST_F(MembershipTest, OwnAgencyCannotBeGranted) {
  EXPECT_THAT(CheckGrantee(*manifest_, self_, Agency(self_)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(MembershipTest, AgencyOutsideTheFederationCannotBeGranted) {
  EXPECT_THAT(CheckGrantee(*manifest_, self_, Agency("stranger")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(MembershipTest, SuspendedMemberCannotBeGranted) {
  EXPECT_THAT(CheckGrantee(*manifest_, self_, Agency("metro-pd")),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(MembershipTest, RefusalMayNameActiveAndSuspendedMembers) {
  EXPECT_THAT(CheckRefusedAgency(*manifest_, self_, "legal-aid"), IsOk());
  EXPECT_THAT(CheckRefusedAgency(*manifest_, self_, "metro-pd"), IsOk());
}

TEST_F(MembershipTest, RefusalCannotNameOwnAgencyOrAStranger) {
  EXPECT_THAT(CheckRefusedAgency(*manifest_, self_, self_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckRefusedAgency(*manifest_, self_, "stranger"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace haven::server::federation
