#include "server/exchange/replay_guard.h"

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace haven::server::exchange {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

TEST(ReplayGuardTest, SameRequestIdIsRefusedTheSecondTime) {
  ReplayGuard guard(absl::Seconds(60));
  EXPECT_THAT(guard.Check("req-1", kNow, kNow), IsOk());
  EXPECT_THAT(guard.Check("req-1", kNow, kNow + absl::Seconds(1)),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(guard.Check("req-2", kNow, kNow), IsOk());
}

TEST(ReplayGuardTest, RequestOutsideTheClockWindowIsRefused) {
  ReplayGuard guard(absl::Seconds(60));
  EXPECT_THAT(guard.Check("old", kNow - absl::Seconds(61), kNow),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(guard.Check("future", kNow + absl::Seconds(61), kNow),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(guard.Check("edge", kNow - absl::Seconds(60), kNow), IsOk());
}

TEST(ReplayGuardTest, ReplayIsRefusedForAsLongAsItsTimeCouldPass) {
  ReplayGuard guard(absl::Seconds(60));
  ASSERT_THAT(guard.Check("req", kNow, kNow), IsOk());
  // Still inside the window of its own timestamp: remembered.
  EXPECT_THAT(guard.Check("req", kNow, kNow + absl::Seconds(59)),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // Later, the timestamp alone refuses it.
  EXPECT_THAT(guard.Check("req", kNow, kNow + absl::Seconds(200)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(ReplayGuardTest, EmptyIdIsInvalid) {
  ReplayGuard guard(absl::Seconds(60));
  EXPECT_THAT(guard.Check("", kNow, kNow),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace haven::server::exchange
