#include "server/crypto/password.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace haven::server::crypto {
namespace {

using ::haven::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(PasswordTest, RightPasswordVerifiesAndWrongOnesDoNot) {
  auto hash =
      HashPassword("correct horse battery", PasswordCost::Interactive());
  ASSERT_THAT(hash, IsOk());
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse batterY"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse battery "));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
}

TEST(PasswordTest, HashIsArgon2idSaltedAndHoldsNoPassword) {
  auto first =
      HashPassword("correct horse battery", PasswordCost::Interactive());
  auto second =
      HashPassword("correct horse battery", PasswordCost::Interactive());
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  EXPECT_THAT(*first, StartsWith("$argon2id$"));
  // A random salt each time: equal passwords do not show as equal hashes.
  EXPECT_NE(*first, *second);
  EXPECT_THAT(*first, Not(HasSubstr("horse")));
}

TEST(PasswordTest, HashMadeWithOneCostVerifiesWhateverTheCurrentCost) {
  auto production =
      HashPassword("correct horse battery", PasswordCost::Production());
  ASSERT_THAT(production, IsOk());
  EXPECT_TRUE(VerifyPassword(*production, "correct horse battery"));
}

TEST(PasswordTest, MalformedOrEmptyHashNeverVerifies) {
  EXPECT_FALSE(VerifyPassword("", ""));
  EXPECT_FALSE(VerifyPassword("$argon2id$garbage", "x"));
  EXPECT_FALSE(VerifyPassword(std::string(500, 'a'), "x"));
}

}  // namespace
}  // namespace haven::server::crypto
