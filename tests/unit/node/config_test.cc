#include "server/node/config.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace haven::server::node {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kGoodConfig[] = R"(agency_id: "legal-aid"
listen_address: "127.0.0.1:7442"
data_dir: "data"
master_key_file: "master.key"
tls {
  cert_file: "tls/node.crt"
  key_file: "tls/node.key"
  ca_file: "/etc/haven/ca.crt"
}
principals { name: "ana" role: CASEWORKER token_sha256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" }
)";

class ConfigTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    std::string path = dir_.Join("node.textproto");
    std::ofstream(path) << text;
    return path;
  }
  haven::testing::TempDir dir_;
};

TEST_F(ConfigTest, GoodConfigLoadsWithPathsResolvedAgainstItsDirectory) {
  auto loaded = LoadConfig(Write(kGoodConfig));
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(loaded->config.data_dir(), dir_.Join("data"));
  EXPECT_EQ(loaded->config.tls().cert_file(), dir_.Join("tls/node.crt"));
  EXPECT_EQ(loaded->config.tls().ca_file(), "/etc/haven/ca.crt");
}

TEST_F(ConfigTest, MetricsAreOffByDefault) {
  auto loaded = LoadConfig(Write(kGoodConfig));
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(loaded->config.metrics_listen_address(), "");
}

TEST_F(ConfigTest, MetricsOnLoopbackAreAccepted) {
  for (const char* address :
       {"127.0.0.1:9464", "127.1.2.3:0", "[::1]:9464", "localhost:9464"}) {
    SCOPED_TRACE(address);
    EXPECT_THAT(
        LoadConfig(Write(absl::StrFormat("%s\nmetrics_listen_address: \"%s\"\n",
                                         kGoodConfig, address))),
        IsOk());
  }
}

TEST_F(ConfigTest, MetricsOffLoopbackAreRefusedSayingWhy) {
  for (const char* address : {"0.0.0.0:9464", "10.0.0.5:9464", "[::]:9464",
                              "metrics.example.org:9464", "128.0.0.1:9464"}) {
    SCOPED_TRACE(address);
    std::string path = Write(absl::StrFormat(
        "%s\nmetrics_listen_address: \"%s\"\n", kGoodConfig, address));
    auto loaded = LoadConfig(path);
    EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(std::string(loaded.status().message()),
                AllOf(HasSubstr(path + ":12: metrics_listen_address"),
                      HasSubstr("plain HTTP without authentication"),
                      HasSubstr("loopback")));
  }
}

TEST_F(ConfigTest, MetricsAddressWithoutPortIsRefused) {
  auto loaded = LoadConfig(Write(std::string(kGoodConfig) +
                                 "metrics_listen_address: \"127.0.0.1\"\n"));
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr("expected host:port"));
}

TEST_F(ConfigTest, UnknownFieldNamesFileLineAndField) {
  std::string path = Write(std::string(kGoodConfig) + "\ndata_dri: \"x\"\n");
  auto loaded = LoadConfig(path);
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(loaded.status().message()),
              AllOf(HasSubstr(path + ":12:"), HasSubstr("data_dri")));
}

TEST_F(ConfigTest, MissingRequiredFieldIsNamed) {
  auto loaded = LoadConfig(Write("agency_id: \"legal-aid\"\n"));
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr("listen_address: required"));
}

TEST_F(ConfigTest, BadValueNamesItsLine) {
  std::string text = kGoodConfig;
  text.replace(text.find("127.0.0.1:7442"), 14, "no-port");
  std::string path = Write(text);
  auto loaded = LoadConfig(path);
  EXPECT_THAT(
      std::string(loaded.status().message()),
      AllOf(HasSubstr(path + ":2: listen_address"), HasSubstr("host:port")));
}

TEST_F(ConfigTest, PrincipalWithPlainTokenIsRejectedWithoutEchoingIt) {
  std::string text = kGoodConfig;
  text +=
      "principals { name: \"bo\" role: AUDITOR token_sha256: "
      "\"my-secret-token\" }\n";
  auto loaded = LoadConfig(Write(text));
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kInvalidArgument));
  std::string message(loaded.status().message());
  EXPECT_THAT(message, HasSubstr("principals[1]"));
  EXPECT_THAT(message, Not(HasSubstr("my-secret-token")));
}

TEST_F(ConfigTest, MissingConfigFileIsNotFound) {
  EXPECT_THAT(LoadConfig(dir_.Join("absent.textproto")),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ConfigTest, CheckFilesNamesMissingMasterKey) {
  std::filesystem::create_directory(dir_.Join("data"));
  chmod(dir_.Join("data").c_str(), 0700);
  auto loaded = LoadConfig(Write(kGoodConfig));
  ASSERT_THAT(loaded, IsOk());
  absl::Status status = CheckConfigFiles(*loaded);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(
      std::string(status.message()),
      AllOf(HasSubstr(":4: master_key_file"),
            HasSubstr(dir_.Join("master.key")), HasSubstr("does not exist")));
}

TEST_F(ConfigTest, CheckFilesRefusesDataDirOpenToOthers) {
  std::filesystem::create_directory(dir_.Join("data"));
  chmod(dir_.Join("data").c_str(), 0755);
  auto loaded = LoadConfig(Write(kGoodConfig));
  ASSERT_THAT(loaded, IsOk());
  absl::Status status = CheckConfigFiles(*loaded);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr("data_dir"), HasSubstr("chmod 700")));
}

// Writes the files kGoodConfig names, with a TLS key of `key_mode`, and
// loads it with its CA beside it.
absl::StatusOr<LoadedConfig> LoadWithFiles(const haven::testing::TempDir& dir,
                                           mode_t key_mode) {
  namespace fs = std::filesystem;
  fs::create_directory(dir.Join("data"));
  chmod(dir.Join("data").c_str(), 0700);
  fs::create_directory(dir.Join("tls"));
  auto write = [&](const std::string& name, mode_t mode) {
    std::ofstream(dir.Join(name)) << "x\n";
    chmod(dir.Join(name).c_str(), mode);
  };
  write("master.key", 0600);
  write("tls/node.crt", 0644);
  write("tls/node.key", key_mode);
  write("ca.crt", 0644);
  std::string text = kGoodConfig;
  text.replace(text.find("/etc/haven/ca.crt"), 17, "ca.crt");
  std::string path = dir.Join("node.textproto");
  std::ofstream(path) << text;
  return LoadConfig(path);
}

TEST_F(ConfigTest, CheckFilesAcceptsTlsKeyReadableByOwnerOnly) {
  auto loaded = LoadWithFiles(dir_, 0600);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_THAT(CheckConfigFiles(*loaded), IsOk());
}

TEST_F(ConfigTest, CheckFilesRefusesTlsKeyReadableByOthers) {
  for (mode_t mode : {0640, 0604, 0644, 0610, 0601, 0620}) {
    SCOPED_TRACE(absl::StrFormat("mode %04o", mode));
    auto loaded = LoadWithFiles(dir_, mode);
    ASSERT_THAT(loaded, IsOk());
    absl::Status status = CheckConfigFiles(*loaded);
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_THAT(std::string(status.message()),
                AllOf(HasSubstr(":7: tls.key_file"),
                      HasSubstr(dir_.Join("tls/node.key")),
                      HasSubstr("group or others"), HasSubstr("chmod 600")));
  }
}

TEST_F(ConfigTest, TwoPrincipalsWithOneTokenAreRefused) {
  // The same hash as ana's: one token would act as whichever came last.
  std::string text = kGoodConfig;
  text +=
      "principals { name: \"bo\" role: ADMIN token_sha256: "
      "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\" "
      "}\n";
  std::string path = Write(text);
  auto loaded = LoadConfig(path);
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kInvalidArgument));
  std::string message(loaded.status().message());
  EXPECT_THAT(message,
              AllOf(HasSubstr(path + ":11: principals[1]"),
                    HasSubstr("principals[0]"), HasSubstr("token_sha256")));
  EXPECT_THAT(message, Not(HasSubstr("0123456789abcdef")));
}

TEST_F(ConfigTest, TwoPrincipalsWithOneNameAreRefused) {
  std::string text = kGoodConfig;
  text +=
      "principals { name: \"ana\" role: ADMIN token_sha256: "
      "\"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210\" "
      "}\n";
  std::string path = Write(text);
  auto loaded = LoadConfig(path);
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(loaded.status().message()),
              AllOf(HasSubstr(path + ":11: principals[1]"),
                    HasSubstr("principals[0]"), HasSubstr("name")));
}

}  // namespace
}  // namespace haven::server::node
