// Browser tests of haven-console (issue 17, acceptance 1, 3 and 6): two real
// havend nodes (safe-harbor holds the survivor's file, legal-aid is the
// grantee), a real haven-console in front of safe-harbor, and headless
// Chromium driven by Selenium (tests/e2e/browser/*.py) as the advocate.
// Screenshots go to <build>/tests/e2e/screenshots/<test>/.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/v1/auth.grpc.pb.h"
#include "haven/v1/records.grpc.pb.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_federation.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kHolder[] = "safe-harbor";
constexpr char kGrantee[] = "legal-aid";
constexpr int kSessionIdleSeconds = 12;
constexpr char kContactValue[] = "555-0199 (safe after 6pm)";
// Printable ASCII of at most 64 bytes, as a case reference must be; the
// revocation reason carries every payload (advocate_test.py).
constexpr char kHostileCaseReference[] =
    "\"><svg onload=__havenXss=3><img src=x onerror=__havenXss=2>";

const char* const kChromium = "/usr/bin/chromium";
const char* const kChromedriver = "/usr/bin/chromedriver";
const char* const kSetpriv = "/usr/bin/setpriv";

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string JsonList(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& item : items) quoted.push_back(JsonString(item));
  return absl::StrCat("[", absl::StrJoin(quoted, ", "), "]");
}

class ConsoleBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {kChromium, kChromedriver, HAVEN_SYSTEM_PYTHON}) {
      if (access(tool, X_OK) != 0) {
        GTEST_SKIP() << tool << " is missing: deploy/setup.sh installs it";
      }
    }
    std::string out;
    if (RunCommand({HAVEN_SYSTEM_PYTHON, "-c", "import selenium"}, &out) != 0) {
      GTEST_SKIP() << "python3-selenium is missing: deploy/setup.sh installs "
                      "it";
    }
    federation_ = std::make_unique<TestFederation>(dir_.path());
    federation_->set_extra_config(
        absl::StrCat("session_idle_seconds: ", kSessionIdleSeconds, "\n"));
    std::string error;
    ASSERT_TRUE(federation_->Create({ExampleMember(kHolder, "VICTIM_SERVICES"),
                                     ExampleMember(kGrantee, "LEGAL_SERVICES")},
                                    &error))
        << error;
    ASSERT_TRUE(federation_->Start(&error)) << error;

    // The console's own files sit apart from the nodes' (whose folder is
    // private to this test's user): its HTTPS certificate and key, and a
    // copy of the task-force CA certificate to check the node with.
    char pattern[] = "/tmp/haven-console-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    console_dir_ = pattern;
    ASSERT_TRUE(
        MakeCertificates(console_dir_ + "/pki", {"haven-console"}, &error))
        << error;
    std::filesystem::copy_file(federation_->pki_dir() + "/ca.crt",
                               console_dir_ + "/node-ca.crt");
    chmod(console_dir_.c_str(), 0755);
    chmod((console_dir_ + "/pki").c_str(), 0755);
    chmod((console_dir_ + "/pki/haven-console").c_str(), 0755);
    chmod((console_dir_ + "/node-ca.crt").c_str(), 0644);
  }

  void TearDown() override {
    console_.reset();
    if (!console_dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(console_dir_, ignored);
    }
  }

  TestNode& holder() { return federation_->node(kHolder); }
  TestNode& grantee() { return federation_->node(kGrantee); }

  // Whether the node has personal accounts (AuthService), which the
  // console needs to sign anyone in.
  bool HasPersonalAccounts() {
    haven::v1::WhoAmIResponse response;
    grpc::Status status =
        haven::v1::AuthService::NewStub(holder().LocalChannel())
            ->WhoAmI(holder().ClientContext("admin").get(),
                     haven::v1::WhoAmIRequest(), &response);
    return status.error_code() != grpc::StatusCode::UNIMPLEMENTED;
  }

  // Starts haven-console in front of the holder, with `prefix` before its
  // argv (e.g. setpriv to run it as another user); fills base_url_.
  void StartConsole(const std::vector<std::string>& prefix) {
    std::vector<std::string> argv = prefix;
    const std::string cert = console_dir_ + "/pki/haven-console/node.crt";
    const std::string key = console_dir_ + "/pki/haven-console/node.key";
    for (const std::string& arg :
         {std::string(HAVEN_CONSOLE_PATH), std::string("--listen"),
          std::string("127.0.0.1:0"), std::string("--tls-cert"), cert,
          std::string("--tls-key"), key, std::string("--node"),
          holder().local_address(), std::string("--node-ca"),
          console_dir_ + "/node-ca.crt", std::string("--node-name"),
          std::string(kHolder), std::string("--node-verifier-key"),
          federation_->verifier_key(kHolder), std::string("--static-dir"),
          SourceDir() + "/client/console/static"}) {
      argv.push_back(arg);
    }
    console_out_ = dir_.Join("console.out");
    console_err_ = dir_.Join("console.err");
    console_ = std::make_unique<Subprocess>(argv, console_out_, console_err_);
    const std::string marker = "listening on https://";
    for (int i = 0; i < 200; ++i) {
      const std::string out = ReadFileOrEmpty(console_out_);
      const size_t at = out.find(marker);
      if (at != std::string::npos && out.find('\n', at) != std::string::npos) {
        base_url_ = "https://" + Trimmed(out.substr(at + marker.size()));
        base_url_ = base_url_.substr(0, base_url_.find('\n'));
        return;
      }
      if (!console_->running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "haven-console did not start:\n"
           << ReadFileOrEmpty(console_out_) << ReadFileOrEmpty(console_err_);
  }

  // An advocate account at the holder, added with `havenctl admin user add`
  // (or, on a havenctl without that command, with AuthService.AddUser
  // itself); returns its enrolment code.
  std::string AddAdvocate(const std::string& name) {
    std::string out;
    const int rc = holder().Havenctl(
        "admin", {"admin", "user", "add", name, "--role", "advocate", "--json"},
        &out);
    if (rc == 2) {
      std::printf(
          "havenctl has no `admin user add` here; calling "
          "AuthService.AddUser directly\n");
      haven::v1::AddUserRequest request;
      request.set_name(name);
      request.set_role(haven::v1::ADVOCATE);
      haven::v1::AddUserResponse response;
      grpc::Status status =
          haven::v1::AuthService::NewStub(holder().LocalChannel())
              ->AddUser(holder().ClientContext("admin").get(), request,
                        &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      return response.enrolment_code();
    }
    EXPECT_EQ(rc, 0) << out;
    std::string code = JsonField(out, "enrolment_code");
    if (code.empty()) code = JsonField(out, "enrolmentCode");
    EXPECT_FALSE(code.empty()) << out;
    return code;
  }

  // A subject with `reference` (havenctl records create-subject
  // --case-reference, or RecordService.CreateSubject on a havenctl without
  // that flag) and one record with a contact field and a note.
  void AddSubject(const std::string& reference, const std::string& note) {
    std::string out;
    std::string subject;
    const int rc = holder().Havenctl(
        "caseworker",
        {"records", "create-subject", "--case-reference", reference}, &out);
    if (rc == 2) {
      haven::v1::CreateSubjectRequest request;
      request.set_case_reference(reference);
      haven::v1::CreateSubjectResponse response;
      grpc::Status status =
          haven::v1::RecordService::NewStub(holder().LocalChannel())
              ->CreateSubject(holder().ClientContext("caseworker").get(),
                              request, &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
      subject = response.subject_id();
    } else {
      ASSERT_EQ(rc, 0) << out;
      subject = Trimmed(out);
    }
    ASSERT_EQ(
        holder().Havenctl("caseworker",
                          {"records", "put", "--subject", subject, "--field",
                           absl::StrCat("phone:CONTACT=", kContactValue),
                           "--field", absl::StrCat("notes:CASE_NOTES=", note)},
                          &out),
        0)
        << out;
  }

  // Runs tests/e2e/browser/advocate_test.py as advocate `name`; returns
  // its exit code (its output goes to this test's output).
  int RunAdvocateScenario(const std::string& name,
                          const std::string& screenshots) {
    const std::string code = AddAdvocate(name);
    const std::string reference = "CASE-" + name;
    AddSubject(reference, "private note of the holder");
    AddSubject(kHostileCaseReference, "<script>window.__havenXss++</script>");
    const std::string config = dir_.Join(name + ".json");
    const std::vector<std::string> grantee_ctl = {
        HavenctlPath(),
        "--node",
        grantee().local_address(),
        "--ca",
        grantee().ca_file(),
        "--server-name",
        kGrantee,
        "--token-file",
        grantee().token_file("caseworker")};
    std::ofstream(config)
        << "{\n"
        << "  \"base_url\": " << JsonString(base_url_) << ",\n"
        << "  \"screenshot_dir\": " << JsonString(screenshots) << ",\n"
        << "  \"profile_dir\": " << JsonString(dir_.Join(name + "-profile"))
        << ",\n"
        << "  \"chromium\": " << JsonString(kChromium) << ",\n"
        << "  \"chromedriver\": " << JsonString(kChromedriver) << ",\n"
        << "  \"advocate\": " << JsonString(name) << ",\n"
        << "  \"enrolment_code\": " << JsonString(code) << ",\n"
        << "  \"password\": \"correct horse battery staple\",\n"
        << "  \"case_reference\": " << JsonString(reference) << ",\n"
        << "  \"hostile_case_reference\": " << JsonString(kHostileCaseReference)
        << ",\n"
        << "  \"holder\": " << JsonString(kHolder) << ",\n"
        << "  \"grantee\": " << JsonString(kGrantee) << ",\n"
        << "  \"contact_value\": " << JsonString(kContactValue) << ",\n"
        << "  \"session_idle_seconds\": " << kSessionIdleSeconds << ",\n"
        << "  \"grantee_ctl\": " << JsonList(grantee_ctl) << "\n"
        << "}\n";
    std::string out;
    const auto started = std::chrono::steady_clock::now();
    const int rc = RunCommand(
        {HAVEN_SYSTEM_PYTHON,
         SourceDir() + "/tests/e2e/browser/advocate_test.py", config},
        &out, std::chrono::seconds(400));
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
    std::printf("---- advocate_test.py as %s (%lld s, exit %d) ----\n%s\n",
                name.c_str(), static_cast<long long>(seconds), rc, out.c_str());
    if (rc != 0) {
      std::printf("---- haven-console stderr ----\n%s\n",
                  ReadFileOrEmpty(console_err_).c_str());
    }
    return rc;
  }

  TempDir dir_;
  std::unique_ptr<TestFederation> federation_;
  std::string console_dir_;
  std::unique_ptr<Subprocess> console_;
  std::string console_out_;
  std::string console_err_;
  std::string base_url_;
};

std::string ScreenshotDir(const std::string& name) {
  return absl::StrCat(HAVEN_SCREENSHOT_DIR, "/", name);
}

// Acceptance 1 and 3: enrol, sign in, consent with preview and receipt,
// withdraw, the grantee refused, the access report; hostile content as
// text; CSRF, origin, expired and signed-out sessions refused.
TEST_F(ConsoleBrowserTest, AdvocateRecordsAndWithdrawsConsentSafely) {
  if (!HasPersonalAccounts()) {
    GTEST_SKIP() << "this node has no AuthService: nobody can sign in to "
                    "the console";
  }
  ASSERT_NO_FATAL_FAILURE(StartConsole({}));
  EXPECT_EQ(RunAdvocateScenario("ada.advocate", ScreenshotDir("advocate")), 0);
  // The console never logs a session token or a cookie.
  const std::string log = ReadFileOrEmpty(console_err_);
  EXPECT_THAT(log, HasSubstr("POST /api/sign-in 200"));
  EXPECT_THAT(log, Not(HasSubstr("haven-session")));
  EXPECT_THAT(log, Not(HasSubstr("Bearer")));
}

// Acceptance 6: haven-console as another user, unable to read the node's
// data dir, master key or TLS key, and every page still works.
TEST_F(ConsoleBrowserTest, ConsoleRunsAsAnotherUserWithoutNodeSecrets) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "not root: cannot run haven-console as another user "
                    "here (CI runs this test as root)";
  }
  ASSERT_EQ(access(kSetpriv, X_OK), 0) << "setpriv (util-linux) is missing";
  if (!HasPersonalAccounts()) {
    GTEST_SKIP() << "this node has no AuthService: nobody can sign in to "
                    "the console";
  }
  const std::vector<std::string> as_nobody = {
      kSetpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"};
  // The console's certificate and key belong to its user; nothing of the
  // node's does.
  for (const char* file :
       {"/pki/haven-console/node.crt", "/pki/haven-console/node.key"}) {
    ASSERT_EQ(chown((console_dir_ + file).c_str(), 65534, 65534), 0) << file;
  }
  for (const std::string& secret :
       {holder().dir() + "/data", holder().dir() + "/master.key",
        federation_->pki_dir() + "/" + kHolder + "/node.key",
        holder().token_file("admin")}) {
    std::string out;
    std::vector<std::string> argv = as_nobody;
    argv.insert(argv.end(), {"/usr/bin/test", "-r", secret});
    EXPECT_NE(RunCommand(argv, &out), 0)
        << secret << " is readable by the console's user";
    std::printf("as nobody, access(%s, R_OK) refused\n", secret.c_str());
  }
  ASSERT_NO_FATAL_FAILURE(StartConsole(as_nobody));
  EXPECT_EQ(RunAdvocateScenario("bo.advocate",
                                ScreenshotDir("advocate-as-other-user")),
            0);
}

}  // namespace
}  // namespace haven::testing
