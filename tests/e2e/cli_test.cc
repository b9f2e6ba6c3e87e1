// End-to-end tests of havenctl's consent, exchange and policy commands
// against real havend processes: Safe Harbor (victim services, with its
// sharing policy) holds the data; Legal Aid (legal services) is the grantee
// and the requester.
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_federation.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The line of a decision table for `category`, or "".
std::string DecisionLine(const std::string& out, const std::string& category) {
  std::smatch match;
  std::regex pattern("(^|\n)(" + category + " [^\n]*)");
  return std::regex_search(out, match, pattern) ? match[2].str() : "";
}

TEST(PolicyCheckTest, EveryExampleIsValidOffline) {
  const std::string dir = SourceDir() + "/policy/examples";
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string out;
    EXPECT_EQ(
        RunCommand({HavenctlPath(), "policy", "check", entry.path().string()},
                   &out),
        0)
        << out;
    EXPECT_THAT(out, HasSubstr(": ok, version "));
    EXPECT_THAT(out, HasSubstr(" rules"));
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

TEST(PolicyCheckTest, BrokenFileIsAUsageErrorWithItsLine) {
  TempDir dir;
  const std::string path = dir.Join("broken.textproto");
  std::ofstream(path) << "agency_id: \"safe-harbor\"\n"
                      << "rules {\n"
                      << "  name: \"typo\"\n"
                      << "  effect: PERMITT\n"
                      << "}\n";
  std::string out;
  EXPECT_EQ(RunCommand({HavenctlPath(), "policy", "check", path}, &out), 2);
  EXPECT_THAT(out, HasSubstr(path + ":4:"));

  const std::string invalid = dir.Join("invalid.textproto");
  std::ofstream(invalid) << "agency_id: \"safe-harbor\"\n"
                         << "rules {\n"
                         << "  name: \"no-categories\"\n"
                         << "  effect: PERMIT\n"
                         << "  requester { sectors: LEGAL_SERVICES }\n"
                         << "  purposes: LEGAL_REPRESENTATION\n"
                         << "}\n";
  EXPECT_EQ(RunCommand({HavenctlPath(), "policy", "check", invalid}, &out), 2);
  EXPECT_THAT(out, HasSubstr("no-categories"));

  EXPECT_EQ(RunCommand({HavenctlPath(), "policy", "check",
                        dir.Join("missing.textproto")},
                       &out),
            2);
  EXPECT_EQ(RunCommand({HavenctlPath(), "policy", "check"}, &out), 2);
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    federation_ = std::make_unique<TestFederation>(dir_.path());
    std::string error;
    ASSERT_TRUE(
        federation_->Create({ExampleMember("safe-harbor", "VICTIM_SERVICES"),
                             ExampleMember("legal-aid", "LEGAL_SERVICES")},
                            &error))
        << error;
    ASSERT_TRUE(federation_->Start(&error)) << error;
  }

  TestNode& holder() { return federation_->node("safe-harbor"); }
  TestNode& requester() { return federation_->node("legal-aid"); }

  int Ctl(const std::string& role, const std::vector<std::string>& args,
          std::string* out) {
    return holder().Havenctl(role, args, out);
  }

  std::string NewSubject() {
    std::string out;
    EXPECT_EQ(Ctl("caseworker", {"records", "create-subject"}, &out), 0) << out;
    std::string subject = Trimmed(out);
    EXPECT_EQ(Ctl("caseworker",
                  {"records", "put", "--subject", subject, "--field",
                   "phone:CONTACT=555-0100", "--field",
                   "notes:CASE_NOTES=stays home"},
                  &out),
              0)
        << out;
    return subject;
  }

  // Polls `havenctl exchange handles --json` at Legal Aid (bounded, 10 s)
  // until it lists a handle, which goes to `handle` (left empty if none
  // came); `out` gets the last output. The holder offers handles
  // asynchronously.
  void WaitForCliHandle(std::string* handle, std::string* out) {
    for (int attempt = 0; attempt < 100 && handle->empty(); ++attempt) {
      ASSERT_EQ(requester().Havenctl("caseworker",
                                     {"exchange", "handles", "--json"}, out),
                0)
          << *out;
      *handle = JsonField(*out, "handle");
      if (handle->empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }

  // Consent for Legal Aid to get contact and immigration data for legal
  // representation, for 90 days. Returns the consent id.
  std::string RecordConsent(const std::string& subject) {
    std::string out;
    EXPECT_EQ(
        Ctl("advocate",
            {"consent", "record", "--subject", subject, "--grantee-agency",
             "legal-aid", "--purpose", "legal_representation", "--category",
             "CONTACT", "--category", "immigration", "--until", "+90d",
             "--data-life-days", "30", "--json"},
            &out),
        0)
        << out;
    return JsonField(out, "consent_id");
  }

  TempDir dir_;
  std::unique_ptr<TestFederation> federation_;
};

TEST_F(CliTest, ConsentRoundTrip) {
  std::string subject = NewSubject();
  std::string out;
  ASSERT_EQ(Ctl("advocate",
                {"consent", "record", "--subject", subject, "--grantee-agency",
                 "legal-aid", "--purpose", "LEGAL_REPRESENTATION", "--category",
                 "CONTACT", "--until", "+90d", "--max-uses", "5", "--per-days",
                 "7", "--evidence-sha256", std::string(64, 'a')},
                &out),
            0)
      << out;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(out, match, std::regex("consent +(\\S+)\n")))
      << out;
  const std::string id = match[1];
  EXPECT_THAT(out, HasSubstr("version    1"));
  EXPECT_THAT(out, HasSubstr("ACTIVE"));
  EXPECT_THAT(out, HasSubstr("key id"));
  EXPECT_TRUE(
      std::regex_search(out, std::regex("signature  [A-Za-z0-9+/]{80,}=*")))
      << out;

  ASSERT_EQ(Ctl("advocate", {"consent", "list", "--subject", subject}, &out), 0)
      << out;
  EXPECT_THAT(out, HasSubstr(id));
  EXPECT_THAT(out, HasSubstr("legal-aid"));
  EXPECT_THAT(out, HasSubstr("LEGAL_REPRESENTATION"));
  EXPECT_THAT(out, HasSubstr("0/5 per 7d"));

  ASSERT_EQ(Ctl("advocate",
                {"consent", "pause", "--id", id, "--reason", "review"}, &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("PAUSED"));
  ASSERT_EQ(Ctl("advocate", {"consent", "resume", "--id", id}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("ACTIVE"));
  ASSERT_EQ(
      Ctl("advocate",
          {"consent", "revoke", "--id", id, "--reason", "survivor withdrew"},
          &out),
      0)
      << out;
  EXPECT_THAT(out, HasSubstr("REVOKED"));

  ASSERT_EQ(Ctl("advocate", {"consent", "get", "--id", id}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("PAUSED"));
  EXPECT_THAT(out, HasSubstr("REVOKED"));
  EXPECT_THAT(out, HasSubstr("survivor withdrew"));
  ASSERT_EQ(Ctl("advocate", {"consent", "get", "--id", id, "--json"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("\"history\""));

  // Only advocates record consent.
  EXPECT_EQ(Ctl("caseworker",
                {"consent", "record", "--subject", subject, "--grantee-agency",
                 "legal-aid", "--purpose", "LEGAL_REPRESENTATION", "--category",
                 "CONTACT", "--until", "+90d"},
                &out),
            1);
  EXPECT_THAT(out, HasSubstr("ADVOCATE"));
  EXPECT_EQ(Ctl("caseworker", {"consent", "list", "--subject", subject}, &out),
            1);

  // Usage errors never reach the node.
  EXPECT_EQ(
      Ctl("advocate",
          {"consent", "record", "--subject", subject, "--purpose",
           "LEGAL_REPRESENTATION", "--category", "CONTACT", "--until", "+90d"},
          &out),
      2);
  EXPECT_THAT(out, HasSubstr("--grantee-agency"));
  EXPECT_EQ(Ctl("advocate",
                {"consent", "record", "--subject", subject, "--grantee-sector",
                 "legal_services", "--purpose", "LEGAL_REPRESENTATION",
                 "--category", "NOT_A_CATEGORY", "--until", "+90d"},
                &out),
            2);
  EXPECT_THAT(out, HasSubstr("NOT_A_CATEGORY"));
  EXPECT_EQ(Ctl("advocate", {"consent", "pause", "--id", id}, &out), 2);
  EXPECT_EQ(
      Ctl("advocate", {"consent", "get", "--id", "no-such-consent"}, &out), 1);
}

TEST_F(CliTest, RefusalAndLift) {
  std::string subject = NewSubject();
  std::string out;
  ASSERT_EQ(Ctl("advocate",
                {"consent", "refuse", "--subject", subject, "--json"}, &out),
            0)
      << out;
  const std::string refusal = JsonField(out, "refusal_id");
  ASSERT_FALSE(refusal.empty()) << out;
  ASSERT_EQ(Ctl("advocate", {"consent", "list", "--subject", subject}, &out),
            0);
  EXPECT_THAT(out, HasSubstr("do not share"));
  ASSERT_EQ(Ctl("advocate", {"consent", "lift", "--refusal", refusal}, &out), 0)
      << out;
  EXPECT_THAT(out, HasSubstr("active     no"));
}

TEST_F(CliTest, ExplainFollowsConsentAndRevocation) {
  std::string subject = NewSubject();
  std::string id = RecordConsent(subject);
  ASSERT_FALSE(id.empty());
  const std::vector<std::string> explain = {
      "policy",      "explain",   "--subject",  subject,
      "--requester", "legal-aid", "--purpose",  "LEGAL_REPRESENTATION",
      "--category",  "CONTACT",   "--category", "CASE_NOTES"};
  std::string out;
  ASSERT_EQ(Ctl("advocate", explain, &out), 0) << out;
  EXPECT_THAT(DecisionLine(out, "CONTACT"), HasSubstr("ALLOWED "));
  EXPECT_THAT(DecisionLine(out, "CONTACT"), HasSubstr("ALLOWED_BY_CONSENT"));
  EXPECT_THAT(DecisionLine(out, "CONTACT"), HasSubstr("legal-representation"));
  EXPECT_THAT(DecisionLine(out, "CONTACT"), HasSubstr(id));
  EXPECT_THAT(DecisionLine(out, "CASE_NOTES"), HasSubstr("WITHHELD"));
  EXPECT_THAT(DecisionLine(out, "CASE_NOTES"), HasSubstr("DENIED_BY_RULE"));

  ASSERT_EQ(
      Ctl("advocate",
          {"consent", "revoke", "--id", id, "--reason", "survivor withdrew"},
          &out),
      0)
      << out;
  ASSERT_EQ(Ctl("admin", explain, &out), 0) << out;
  EXPECT_THAT(DecisionLine(out, "CONTACT"), HasSubstr("WITHHELD"));
  EXPECT_THAT(DecisionLine(out, "CONTACT"), HasSubstr("CONSENT_IS_REVOKED"));

  EXPECT_EQ(Ctl("caseworker", explain, &out), 1);
  std::vector<std::string> unknown = explain;
  unknown[5] = "nobody";
  EXPECT_EQ(Ctl("advocate", unknown, &out), 1);
  EXPECT_THAT(out, HasSubstr("nobody"));
}

TEST_F(CliTest, PolicyShowAndLoad) {
  std::string out;
  ASSERT_EQ(Ctl("auditor", {"policy", "show"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("agency_id: \"safe-harbor\""));
  EXPECT_THAT(out, HasSubstr("legal-representation"));
  std::smatch match;
  ASSERT_TRUE(std::regex_search(out, match,
                                std::regex("policy version ([0-9a-f]{64})")))
      << out;
  const std::string version = match[1];

  const std::string file =
      SourceDir() + "/policy/examples/safe-harbor.textproto";
  ASSERT_EQ(Ctl("admin", {"policy", "load", file}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("version " + version));
  ASSERT_EQ(RunCommand({HavenctlPath(), "policy", "check", file}, &out), 0);
  EXPECT_THAT(out, HasSubstr("version " + version));

  EXPECT_EQ(Ctl("auditor", {"policy", "load", file}, &out), 1);
  EXPECT_EQ(Ctl("admin",
                {"policy", "load",
                 SourceDir() + "/policy/examples/legal-aid.textproto"},
                &out),
            1);
  EXPECT_THAT(out, HasSubstr("legal-aid"));
}

// A policy loaded at run time is stored with its POLICY_LOADED entry and
// stays in force after a restart, instead of the node going back to its
// config's policy_file; `policy show` says which one is in force.
TEST_F(CliTest, PolicyLoadedAtRunTimeOutlivesARestart) {
  std::string out;
  ASSERT_EQ(Ctl("auditor", {"policy", "show"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("policy_file "));
  std::smatch match;
  ASSERT_TRUE(std::regex_search(out, match,
                                std::regex("policy version ([0-9a-f]{64})")));
  const std::string file_version = match[1];

  // The example policy with a stricter break-glass justification: a
  // different policy, hence a different version.
  std::ifstream example(SourceDir() + "/policy/examples/safe-harbor.textproto");
  std::stringstream text;
  text << example.rdbuf() << "\nmin_justification_chars: 60\n";
  const std::string file = dir_.Join("stricter.textproto");
  std::ofstream(file) << text.str();
  ASSERT_EQ(Ctl("admin", {"policy", "load", file, "--json"}, &out), 0) << out;
  ASSERT_TRUE(std::regex_search(
      out, match, std::regex("\"policy_version\":\"([0-9a-f]{64})\"")))
      << out;
  const std::string loaded_version = match[1];
  ASSERT_NE(loaded_version, file_version);
  ASSERT_TRUE(
      std::regex_search(out, match, std::regex("\"audit_index\":\"?([0-9]+)")))
      << out;
  const std::string index = match[1];

  std::string error;
  ASSERT_EQ(holder().Stop(), 0);
  ASSERT_TRUE(holder().Start(&error)) << error;

  ASSERT_EQ(Ctl("auditor", {"policy", "show"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("policy version " + loaded_version));
  EXPECT_THAT(out, HasSubstr("loaded at run time by safe-harbor-admin"));
  EXPECT_THAT(out, HasSubstr("min_justification_chars: 60"));
  // Its entry is in the log at the index the load reported.
  ASSERT_EQ(Ctl("auditor", {"audit", "tail", "--json"}, &out), 0) << out;
  EXPECT_TRUE(std::regex_search(
      out, std::regex("\"index\":\"?" + index +
                      "\"?,[^\n]*\"kind\":\"POLICY_LOADED\"[^\n]*" +
                      loaded_version)))
      << out;
}

// The survivor's receipt: plain words from the node, and a JSON copy she
// can check with no node against the agency's published key; a receipt
// altered to claim another category fails.
TEST_F(CliTest, ConsentReceiptVerifiesOfflineAndAnAlteredOneFails) {
  std::string subject = NewSubject();
  std::string id = RecordConsent(subject);
  ASSERT_FALSE(id.empty());
  std::string out;
  ASSERT_EQ(Ctl("advocate", {"consent", "receipt", "--id", id}, &out), 0)
      << out;
  EXPECT_THAT(out, HasSubstr("You agreed that the agency legal-aid may "
                             "receive your contact and immigration "
                             "information from safe-harbor, for legal "
                             "representation only."));
  std::string json;
  ASSERT_EQ(
      Ctl("advocate", {"consent", "receipt", "--id", id, "--json"}, &json), 0)
      << json;
  std::string key;
  ASSERT_EQ(Ctl("auditor", {"audit", "key"}, &key), 0) << key;
  key = Trimmed(key);
  const std::string file = dir_.Join("receipt.json");
  std::ofstream(file) << json;
  ASSERT_EQ(RunCommand({HavenctlPath(), "consent", "verify-receipt", file,
                        "--key", key},
                       &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("OK: signed by safe-harbor"));

  const size_t at = json.find("CONTACT");
  ASSERT_NE(at, std::string::npos) << json;
  std::string altered = json;
  altered.replace(at, 7, "MEDICAL");
  const std::string forged = dir_.Join("forged.json");
  std::ofstream(forged) << altered;
  EXPECT_EQ(RunCommand({HavenctlPath(), "consent", "verify-receipt", forged,
                        "--key", key},
                       &out),
            4)
      << out;
  EXPECT_THAT(out, HasSubstr("receipt signature does not verify"));
}

TEST_F(CliTest, ExchangeRequestShowsWhatWasSharedAndWhy) {
  std::string subject = NewSubject();
  std::string id = RecordConsent(subject);
  ASSERT_FALSE(id.empty());

  // The holder offers Legal Aid a handle once the consent is recorded.
  std::string handle;
  std::string out;
  ASSERT_NO_FATAL_FAILURE(WaitForCliHandle(&handle, &out));
  ASSERT_FALSE(handle.empty()) << out;
  ASSERT_EQ(requester().Havenctl("caseworker", {"exchange", "handles"}, &out),
            0);
  EXPECT_THAT(out, HasSubstr("safe-harbor"));
  EXPECT_THAT(out, HasSubstr(handle));

  const std::vector<std::string> ask = {
      "exchange",   "request", "--holder",   "safe-harbor",
      "--handle",   handle,    "--purpose",  "LEGAL_REPRESENTATION",
      "--category", "CONTACT", "--category", "CASE_NOTES"};
  ASSERT_EQ(requester().Havenctl("caseworker", ask, &out), 0) << out;
  EXPECT_THAT(DecisionLine(out, "CONTACT"), HasSubstr("ALLOWED_BY_CONSENT"));
  EXPECT_THAT(DecisionLine(out, "CASE_NOTES"), HasSubstr("DENIED_BY_RULE"));
  EXPECT_THAT(out, HasSubstr("555-0100"));
  EXPECT_THAT(out, Not(HasSubstr("stays home")));
  EXPECT_THAT(out, HasSubstr("holder audit index"));
  EXPECT_THAT(out, HasSubstr("data life            30 days"));

  // A watcher sees the revocation.
  const std::string watch_out = dir_.Join("watch.out");
  Subprocess watch({HavenctlPath(), "--node", requester().local_address(),
                    "--ca", requester().ca_file(), "--server-name", "legal-aid",
                    "--token-file", requester().token_file("caseworker"),
                    "exchange", "watch", "--count", "1"},
                   watch_out, watch_out);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(
      Ctl("advocate",
          {"consent", "revoke", "--id", id, "--reason", "survivor withdrew"},
          &out),
      0)
      << out;
  auto watched = watch.Wait(std::chrono::seconds(40));
  ASSERT_TRUE(watched.has_value());
  EXPECT_EQ(*watched, 0) << ReadFileOrEmpty(watch_out);
  EXPECT_THAT(ReadFileOrEmpty(watch_out), HasSubstr("revoked"));
  EXPECT_THAT(ReadFileOrEmpty(watch_out), HasSubstr(handle));

  // The revocation withdrew the handle: asking with it is refused (exit 1)
  // as for an unknown handle.
  EXPECT_EQ(requester().Havenctl("caseworker", ask, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("no such subject handle"));
  EXPECT_THAT(out, Not(HasSubstr("555-0100")));
  std::vector<std::string> unknown = ask;
  unknown[5] = "0123456789abcdef0123456789abcdef";
  std::string unknown_out;
  EXPECT_EQ(requester().Havenctl("caseworker", unknown, &unknown_out), 1);
  EXPECT_EQ(out, unknown_out);

  // Everything withheld is still an answer: exit 0. (A new consent
  // issues a new handle.)
  ASSERT_FALSE(RecordConsent(subject).empty());
  handle.clear();
  ASSERT_NO_FATAL_FAILURE(WaitForCliHandle(&handle, &out));
  ASSERT_FALSE(handle.empty()) << out;
  std::vector<std::string> medical = ask;
  medical[5] = handle;
  medical[9] = "MEDICAL";
  medical[11] = "MEDICAL";
  ASSERT_EQ(requester().Havenctl("caseworker", medical, &out), 0) << out;
  EXPECT_THAT(DecisionLine(out, "MEDICAL"), HasSubstr("WITHHELD"));
  EXPECT_THAT(out, HasSubstr("(no fields disclosed)"));
  EXPECT_THAT(out, Not(HasSubstr("555-0100")));
}

}  // namespace
}  // namespace haven::testing
