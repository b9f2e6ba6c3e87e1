#include "server/auth/session_table.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/crypto/digest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace haven::server::auth {
namespace {

using ::haven::testing::IsOk;

class SessionTableTest : public ::testing::Test {
 protected:
  static constexpr int64_t kStart = 1'790'000'000;
  FakeClock clock_{kStart};
  SessionTable table_{{&clock_, /*idle_seconds=*/900, /*max_seconds=*/3600}};

  std::string Begin(const std::string& name = "maria.k") {
    auto started = table_.Start(name, haven::v1::ADVOCATE);
    EXPECT_THAT(started, IsOk());
    return started.ok() ? crypto::Sha256(started->token) : "";
  }
};

TEST_F(SessionTableTest, SessionNamesThePersonAndExpiresWhenIdle) {
  auto started = table_.Start("maria.k", haven::v1::ADVOCATE);
  ASSERT_THAT(started, IsOk());
  EXPECT_EQ(started->token.size(), 64u);
  EXPECT_EQ(started->session.idle_expires_unix, kStart + 900);
  EXPECT_EQ(started->session.absolute_expires_unix, kStart + 3600);
  const std::string digest = crypto::Sha256(started->token);
  clock_.Advance(899);
  auto session = table_.Touch(digest);
  ASSERT_TRUE(session.has_value());
  EXPECT_EQ(session->name, "maria.k");
  EXPECT_EQ(session->role, haven::v1::ADVOCATE);
  // The call moved the idle expiry on: 899 s more is still in time...
  clock_.Advance(899);
  EXPECT_TRUE(table_.Touch(digest).has_value());
  // ...but 900 s of silence ends it, for good.
  clock_.Advance(900);
  EXPECT_FALSE(table_.Touch(digest).has_value());
  clock_.Set(kStart);
  EXPECT_FALSE(table_.Touch(digest).has_value());
}

TEST_F(SessionTableTest, SessionEndsAtItsMaximumWhateverTheActivity) {
  const std::string digest = Begin();
  for (int i = 0; i < 7; ++i) {
    clock_.Advance(500);
    ASSERT_TRUE(table_.Touch(digest).has_value()) << i;
  }
  // 3500 s in: the idle expiry never passes the absolute one.
  auto session = table_.Touch(digest);
  ASSERT_TRUE(session.has_value());
  EXPECT_EQ(session->idle_expires_unix, kStart + 3600);
  clock_.Advance(100);
  EXPECT_FALSE(table_.Touch(digest).has_value());
}

TEST_F(SessionTableTest, TheTokenItselfIsNotWhatTheTableKeeps) {
  auto started = table_.Start("maria.k", haven::v1::ADVOCATE);
  ASSERT_THAT(started, IsOk());
  EXPECT_FALSE(table_.Touch(started->token).has_value());
  EXPECT_TRUE(table_.Touch(crypto::Sha256(started->token)).has_value());
}

TEST_F(SessionTableTest, SignOutEndsOneSessionAndDisableEndsAllOfAPerson) {
  const std::string first = Begin("maria.k");
  const std::string second = Begin("maria.k");
  const std::string other = Begin("tom.b");
  EXPECT_NE(first, second);
  EXPECT_TRUE(table_.End(first));
  EXPECT_FALSE(table_.End(first));
  EXPECT_FALSE(table_.Touch(first).has_value());
  EXPECT_TRUE(table_.Touch(second).has_value());
  EXPECT_EQ(table_.EndAllFor("maria.k"), 1);
  EXPECT_FALSE(table_.Touch(second).has_value());
  EXPECT_TRUE(table_.Touch(other).has_value());
}

}  // namespace
}  // namespace haven::server::auth
