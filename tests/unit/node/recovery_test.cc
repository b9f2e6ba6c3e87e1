#include "server/node/recovery.h"

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/exchange/replay_guard.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/consent/registry_fixture.h"

namespace haven::server::node {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;

// The log's reads stop at a byte budget, so the check reads the tail in
// pieces; an entry after a large one must still be checked.
TEST(RecoveryTest, ConsentChangeAfterALargeEntryIsStillChecked) {
  auto h = consent::testing::RegistryHarness::Create();
  ASSERT_THAT(h, IsOk());
  audit::AuditLog& log = (*h)->log().log();
  haven::v1::AuditEntry large;
  large.set_kind(haven::v1::RECORD_WRITTEN);
  large.set_detail(std::string(3 << 19, 'd'));
  ASSERT_THAT(log.Append(large), IsOk());
  // A consent version the store does not hold: a store rolled back.
  haven::v1::AuditEntry change;
  change.set_kind(haven::v1::CONSENT_RECORDED);
  change.set_time_unix_nanos((*h)->log().clock().NowUnixNanos());
  change.add_consent_ids("consent-not-in-the-store");
  change.set_consent_version(1);
  ASSERT_THAT(log.Append(change), IsOk());

  exchange::ReplayGuard replay(absl::Minutes(5));
  EXPECT_THAT(CheckLogTail(log, (*h)->registry(), "safe-harbor",
                           (*h)->log().clock(), &replay),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("consent-not-in-the-store")));
}

}  // namespace
}  // namespace haven::server::node
