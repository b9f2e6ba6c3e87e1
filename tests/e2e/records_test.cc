// End-to-end tests of a node's record vault through havenctl: roles, limits,
// restart, key rotation, wrong or exposed master keys, erasure, and no
// plaintext anywhere under the data dir. Real havend processes.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class RecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    node_ = StartLoneNode(dir_.path(), pki_.path(), &error);
    ASSERT_NE(node_, nullptr) << error;
  }

  int Ctl(const std::string& role, const std::vector<std::string>& args,
          std::string* out) {
    return node_->Havenctl(role, args, out);
  }

  std::string NewSubject() {
    std::string out;
    EXPECT_EQ(Ctl("caseworker", {"records", "create-subject"}, &out), 0) << out;
    out.erase(out.find_last_not_of("\n") + 1);
    return out;
  }

  std::string PutCanary(const std::string& subject, const std::string& canary) {
    std::string out;
    EXPECT_EQ(Ctl("caseworker",
                  {"records", "put", "--subject", subject, "--json", "--field",
                   "full_name:IDENTITY=" + canary, "--field",
                   "phone:CONTACT=555-0100"},
                  &out),
              0)
        << out;
    return JsonField(out, "record_id");
  }

  TempDir pki_;
  TempDir dir_;
  std::unique_ptr<TestNode> node_;
};

TEST_F(RecordsTest, CaseworkerStoresAndReadsBackAcrossRestart) {
  std::string subject = NewSubject();
  std::string record = PutCanary(subject, "Maria Example");
  ASSERT_FALSE(record.empty());
  ASSERT_EQ(node_->Stop(), 0);
  std::string error;
  ASSERT_TRUE(node_->Start(&error)) << error;
  std::string out;
  ASSERT_EQ(
      Ctl("caseworker",
          {"records", "get", "--subject", subject, "--record", record}, &out),
      0)
      << out;
  EXPECT_THAT(out, HasSubstr("Maria Example"));
  EXPECT_THAT(out, HasSubstr("CONTACT"));
}

TEST_F(RecordsTest, OtherRolesCannotReadContent) {
  std::string subject = NewSubject();
  std::string record = PutCanary(subject, "Maria Example");
  for (const char* role : {"advocate", "auditor", "admin"}) {
    std::string out;
    EXPECT_EQ(Ctl(role, {"records", "list", "--subject", subject}, &out), 1)
        << role;
    EXPECT_THAT(out, HasSubstr("needs CASEWORKER"));
    EXPECT_THAT(out, Not(HasSubstr("Maria")));
  }
  std::string out;
  EXPECT_EQ(Ctl("", {"records", "list", "--subject", subject}, &out), 1);
  EXPECT_THAT(out, HasSubstr("missing credentials"));
}

TEST_F(RecordsTest, BadInputGetsClearStatusAndLeavesNoPartialState) {
  std::string subject = NewSubject();
  PutCanary(subject, "Maria Example");
  std::string before;
  ASSERT_EQ(Ctl("caseworker",
                {"records", "list", "--subject", subject, "--json"}, &before),
            0);

  std::string out;
  std::string big(70 * 1024, 'x');
  EXPECT_EQ(Ctl("caseworker",
                {"records", "put", "--subject", subject, "--field",
                 "ok:CONTACT=fine", "--field", "notes:CASE_NOTES=" + big},
                &out),
            1);
  EXPECT_THAT(out, HasSubstr("limit"));
  std::string after;
  ASSERT_EQ(Ctl("caseworker",
                {"records", "list", "--subject", subject, "--json"}, &after),
            0);
  EXPECT_EQ(before, after);

  EXPECT_EQ(
      Ctl("caseworker",
          {"records", "list", "--subject", "0123456789abcdef0123456789abcdef"},
          &out),
      1);
  EXPECT_THAT(out, HasSubstr("no such subject"));
}

// A write or erasure the node refused did not happen, so the log must not
// say it did: each refusal leaves the log exactly as it was.
TEST_F(RecordsTest, RefusedWritesAndErasuresLogNothing) {
  const std::string subject = NewSubject();
  PutCanary(subject, "Maria Example");
  auto log_size = [&] {
    std::string out;
    EXPECT_EQ(Ctl("auditor", {"audit", "checkpoint", "--json"}, &out), 0)
        << out;
    std::smatch match;
    std::regex pattern("\"tree_size\":([0-9]+)");
    return std::regex_search(out, match, pattern) ? std::stoull(match[1])
                                                  : 0ull;
  };
  const unsigned long long before = log_size();
  ASSERT_GT(before, 0u);
  const std::string unknown = "0123456789abcdef0123456789abcdef";
  const std::vector<std::vector<std::string>> refused = {
      // Unknown subject.
      {"records", "put", "--subject", unknown, "--field", "a:CONTACT=b"},
      // Over the value limit.
      {"records", "put", "--subject", subject, "--field",
       "notes:CASE_NOTES=" + std::string(70 * 1024, 'x')},
      // Two fields of one name.
      {"records", "put", "--subject", subject, "--field", "a:CONTACT=b",
       "--field", "a:CONTACT=c"},
      // Unknown record to replace.
      {"records", "put", "--subject", subject, "--record", unknown, "--field",
       "a:CONTACT=b"},
      // Erasing no one, or without a reason.
      {"records", "erase", "--subject", unknown, "--reason", "asked"},
      {"records", "erase", "--subject", subject, "--reason", ""},
  };
  for (const auto& args : refused) {
    std::string out;
    EXPECT_NE(Ctl("caseworker", args, &out), 0)
        << absl::StrJoin(args, " ") << ": " << out;
    EXPECT_EQ(log_size(), before) << absl::StrJoin(args, " ") << ": " << out;
  }
  // A write that happens is logged.
  PutCanary(subject, "Maria Example");
  EXPECT_EQ(log_size(), before + 1);
}

TEST_F(RecordsTest, EraseMakesRecordsUnreadableAtOnce) {
  std::string subject = NewSubject();
  std::string record = PutCanary(subject, "Maria Example");
  std::string out;
  ASSERT_EQ(Ctl("caseworker",
                {"records", "erase", "--subject", subject, "--reason",
                 "survivor withdrew"},
                &out),
            0)
      << out;
  EXPECT_EQ(
      Ctl("caseworker",
          {"records", "get", "--subject", subject, "--record", record}, &out),
      1);
  EXPECT_THAT(out, HasSubstr("no such subject"));
}

TEST_F(RecordsTest, KeyRotationKeepsEveryRecordReadable) {
  std::string subject = NewSubject();
  std::string record = PutCanary(subject, "Maria Example");
  std::string out;
  ASSERT_EQ(Ctl("admin", {"admin", "rotate-key", "--json"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("\"new_kek_version\":2"));
  ASSERT_EQ(Ctl("admin", {"admin", "retire-key", "--version", "1"}, &out), 0)
      << out;
  ASSERT_EQ(node_->Stop(), 0);
  std::string error;
  ASSERT_TRUE(node_->Start(&error)) << error;
  ASSERT_EQ(
      Ctl("caseworker",
          {"records", "get", "--subject", subject, "--record", record}, &out),
      0)
      << out;
  EXPECT_THAT(out, HasSubstr("Maria Example"));
  EXPECT_EQ(Ctl("caseworker", {"admin", "rotate-key"}, &out), 1);
}

TEST_F(RecordsTest, WrongMasterKeyStopsTheNodeWithAClearMessage) {
  PutCanary(NewSubject(), "Maria Example");
  ASSERT_EQ(node_->Stop(), 0);
  std::string key_file = node_->dir() + "/master.key";
  {
    std::ofstream(key_file, std::ios::trunc)
        << "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
  }
  std::string out;
  int code = RunCommand({HavendPath(), "--config", node_->config_path()}, &out,
                        std::chrono::seconds(30));
  EXPECT_NE(code, 0);
  EXPECT_THAT(out, HasSubstr("does not match this data dir"));
}

TEST_F(RecordsTest, MasterKeyReadableByOthersIsRefused) {
  ASSERT_EQ(node_->Stop(), 0);
  chmod((node_->dir() + "/master.key").c_str(), 0644);
  std::string out;
  int code = RunCommand({HavendPath(), "--config", node_->config_path()}, &out,
                        std::chrono::seconds(30));
  EXPECT_NE(code, 0);
  EXPECT_THAT(out, HasSubstr("master_key_file"));
  EXPECT_THAT(out, HasSubstr("0644"));
}

TEST_F(RecordsTest, NoPlaintextAnywhereUnderTheDataDir) {
  const std::string canary = "CanaryZq7Survivor";
  std::string subject = NewSubject();
  std::string record = PutCanary(subject, canary);
  std::string out;
  ASSERT_EQ(
      Ctl("caseworker",
          {"records", "get", "--subject", subject, "--record", record}, &out),
      0);
  ASSERT_EQ(node_->Stop(), 0);
  std::vector<std::string> forms = {canary, absl::Base64Escape(canary),
                                    absl::BytesToHexString(canary)};
  std::string upper_hex = absl::BytesToHexString(canary);
  for (char& c : upper_hex) c = static_cast<char>(toupper(c));
  forms.push_back(upper_hex);
  int files = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(node_->dir() + "/data")) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::string bytes = ReadFileOrEmpty(entry.path());
    for (const auto& form : forms) {
      EXPECT_EQ(bytes.find(form), std::string::npos)
          << form << " found in " << entry.path();
    }
  }
  EXPECT_GT(files, 3);
  EXPECT_THAT(node_->Log(), Not(HasSubstr(canary)));
}

}  // namespace
}  // namespace haven::testing
