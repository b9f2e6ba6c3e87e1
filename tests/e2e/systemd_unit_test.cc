// The systemd unit shipped in deploy/systemd/ is valid, and its sandbox is
// as tight as the README says ("systemd-analyze security" exposure 1.2, OK).
#include <fstream>
#include <regex>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kSystemdAnalyze[] = "/usr/bin/systemd-analyze";

// The shipped unit, its ExecStart pointed at the havend under test (verify
// checks that the binary exists and is executable).
std::string UnitUnderTest(const TempDir& dir) {
  std::string unit =
      ReadFileOrEmpty(SourceDir() + "/deploy/systemd/havend.service");
  unit = std::regex_replace(unit, std::regex("/usr/bin/havend"), HavendPath());
  const std::string path = dir.Join("havend.service");
  std::ofstream(path) << unit;
  return path;
}

TEST(SystemdUnitTest, VerifiesClean) {
  TempDir dir;
  const std::string unit = UnitUnderTest(dir);
  std::string output;
  EXPECT_EQ(RunCommand({kSystemdAnalyze, "verify", unit}, &output,
                       std::chrono::seconds(60)),
            0)
      << output;
  EXPECT_EQ(output, "");
}

TEST(SystemdUnitTest, SecurityExposureIsWhatTheReadmeSays) {
  TempDir dir;
  const std::string unit = UnitUnderTest(dir);
  std::string output;
  // --threshold=12 fails the command above an exposure of 1.2.
  EXPECT_EQ(RunCommand({kSystemdAnalyze, "security", "--offline=true",
                        "--threshold=12", unit},
                       &output, std::chrono::seconds(60)),
            0)
      << output;
  EXPECT_THAT(output, HasSubstr("Overall exposure level for havend.service: 1.2 OK"));
  const std::string readme = ReadFileOrEmpty(SourceDir() + "/README.md");
  EXPECT_THAT(readme, HasSubstr("exposure level 1.2 (OK)"));
}

}  // namespace
}  // namespace haven::testing
