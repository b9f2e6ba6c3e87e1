#include "client/cli/args.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace haven::client::cli {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;

TEST(ArgsTest, FlagsMayAppearAnywhere) {
  const char* argv[] = {"havenctl", "--node",    "127.0.0.1:1", "audit",
                        "proof",    "--index=7", "--json"};
  auto args = Args::Parse(7, argv, {"json"});
  ASSERT_THAT(args, IsOk());
  EXPECT_THAT(args->positional(), ::testing::ElementsAre("audit", "proof"));
  EXPECT_EQ(args->GetOr("node", ""), "127.0.0.1:1");
  EXPECT_EQ(args->GetOr("index", ""), "7");
  EXPECT_TRUE(args->Has("json"));
}

TEST(ArgsTest, FlagWithoutValueIsAnError) {
  const char* argv[] = {"havenctl", "health", "--node"};
  EXPECT_THAT(Args::Parse(3, argv, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ArgsTest, UnknownFlagsAreReported) {
  const char* argv[] = {"havenctl", "health", "--colour", "red"};
  auto args = Args::Parse(4, argv, {});
  ASSERT_THAT(args, IsOk());
  EXPECT_THAT(args->Unknown({"node"}), ::testing::ElementsAre("colour"));
}

}  // namespace
}  // namespace haven::client::cli
