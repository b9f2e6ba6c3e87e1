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
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/v1/auth.grpc.pb.h"
#include "haven/v1/records.grpc.pb.h"
#include "tests/testing/federation_calls.h"
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
// A record field carrying every payload: the caseworker's page must show
// it as text (caseworker_browser.py checks that no script ran).
constexpr char kHostileContactValue[] =
    "555-0142 <script>window.__havenXss=1</script><img src=x "
    "onerror=window.__havenXss=2>\"><svg onload=window.__havenXss=3>";
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

  // Starts haven-console in front of the holder, with `prefix` before its
  // argv (e.g. setpriv to run it as another user); fills base_url_.
  void StartConsole(const std::vector<std::string>& prefix) {
    StartConsoleFor(prefix, holder().local_address(), kHolder,
                    federation_->verifier_key(kHolder), &console_, &base_url_,
                    "console");
  }

  // Starts haven-console in front of the node at `node_address` (whose
  // certificate names `node_name`; `verifier_key` pinned), as `*console`;
  // fills `*base_url`. Its output goes to <name>.out and <name>.err.
  void StartConsoleFor(const std::vector<std::string>& prefix,
                       const std::string& node_address,
                       const std::string& node_name,
                       const std::string& verifier_key,
                       std::unique_ptr<Subprocess>* console,
                       std::string* base_url, const std::string& name) {
    std::vector<std::string> argv = prefix;
    const std::string cert = console_dir_ + "/pki/haven-console/node.crt";
    const std::string key = console_dir_ + "/pki/haven-console/node.key";
    for (const std::string& arg :
         {std::string(HAVEN_CONSOLE_PATH), std::string("--listen"),
          std::string("127.0.0.1:0"), std::string("--tls-cert"), cert,
          std::string("--tls-key"), key, std::string("--node"), node_address,
          std::string("--node-ca"), console_dir_ + "/node-ca.crt",
          std::string("--node-name"), node_name,
          std::string("--node-verifier-key"), verifier_key,
          std::string("--static-dir"),
          SourceDir() + "/client/console/static"}) {
      argv.push_back(arg);
    }
    const std::string out_path = dir_.Join(name + ".out");
    const std::string err_path = dir_.Join(name + ".err");
    if (console == &console_) {
      console_out_ = out_path;
      console_err_ = err_path;
    }
    *console = std::make_unique<Subprocess>(argv, out_path, err_path);
    const std::string marker = "listening on https://";
    for (int i = 0; i < 200; ++i) {
      const std::string out = ReadFileOrEmpty(out_path);
      const size_t at = out.find(marker);
      if (at != std::string::npos && out.find('\n', at) != std::string::npos) {
        *base_url = "https://" + Trimmed(out.substr(at + marker.size()));
        *base_url = base_url->substr(0, base_url->find('\n'));
        return;
      }
      if (!(*console)->running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "haven-console did not start:\n"
           << ReadFileOrEmpty(out_path) << ReadFileOrEmpty(err_path);
  }

  // An advocate account at the holder, added with `havenctl admin user add`;
  // returns its enrolment code.
  std::string AddAdvocate(const std::string& name) {
    return AddAccount(holder(), name, "advocate");
  }

  // An account with `role` (havenctl's role name) at `node`; returns its
  // enrolment code.
  std::string AddAccount(TestNode& node, const std::string& name,
                         const std::string& role) {
    std::string out;
    const int rc = node.Havenctl(
        "admin", {"admin", "user", "add", name, "--role", role, "--json"},
        &out);
    EXPECT_EQ(rc, 0) << out;
    std::string code = JsonField(out, "enrolment_code");
    if (code.empty()) code = JsonField(out, "enrolmentCode");
    EXPECT_FALSE(code.empty()) << out;
    return code;
  }

  // A subject with `reference` (havenctl records create-subject
  // --case-reference) and one record with a contact field and a note; its
  // id in `*subject_id` if given.
  void AddSubject(const std::string& reference, const std::string& note,
                  std::string* subject_id = nullptr,
                  const std::string& contact = kContactValue) {
    std::string out;
    std::string subject;
    ASSERT_EQ(
        holder().Havenctl(
            "caseworker",
            {"records", "create-subject", "--case-reference", reference}, &out),
        0)
        << out;
    subject = Trimmed(out);
    if (subject_id != nullptr) *subject_id = subject;
    ASSERT_EQ(
        holder().Havenctl("caseworker",
                          {"records", "put", "--subject", subject, "--field",
                           absl::StrCat("phone:CONTACT=", contact), "--field",
                           absl::StrCat("notes:CASE_NOTES=", note)},
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

  // A real disclosure between the two nodes: the holder's advocate records
  // a consent (contact, for legal representation) for a new subject, the
  // grantee receives a handle and its caseworker asks (havenctl) for
  // contact and case notes: contact is given, the notes withheld. Returns
  // the handle.
  std::string MakeDisclosure(const std::string& reference,
                             const std::string& contact = kContactValue) {
    std::string subject;
    AddSubject(reference, "private note of the holder", &subject, contact);
    EXPECT_FALSE(subject.empty());
    std::string out;
    EXPECT_EQ(holder().Havenctl("advocate",
                                {"consent", "record", "--subject", subject,
                                 "--grantee-agency", kGrantee, "--purpose",
                                 "LEGAL_REPRESENTATION", "--category",
                                 "CONTACT", "--until", "+90d"},
                                &out),
              0)
        << out;
    std::string handle;
    for (int i = 0; i < 300 && handle.empty(); ++i) {  // bounded: 30 s
      if (grantee().Havenctl("caseworker", {"exchange", "handles", "--json"},
                             &out) == 0) {
        handle = JsonField(out, "handle");
      }
      if (handle.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    EXPECT_FALSE(handle.empty()) << "the grantee never received a handle";
    EXPECT_EQ(grantee().Havenctl(
                  "caseworker",
                  {"exchange", "request", "--holder", kHolder, "--handle",
                   handle, "--purpose", "LEGAL_REPRESENTATION", "--category",
                   "CONTACT", "--category", "CASE_NOTES", "--json"},
                  &out),
              0)
        << out;
    EXPECT_THAT(out, HasSubstr("CONTACT"));
    return handle;
  }

  // Starts tests/e2e/browser/node_double.py in front of the holder's local
  // API (TLS with the holder's certificate, on 127.0.0.1); it tampers as
  // `mode_file` says. Returns its address.
  std::string StartNodeDouble(const std::string& mode_file) {
    const std::string pki = federation_->pki_dir() + "/" + kHolder;
    const std::string out_path = dir_.Join("node_double.out");
    double_ = std::make_unique<Subprocess>(
        std::vector<std::string>{
            HAVEN_SYSTEM_PYTHON,
            SourceDir() + "/tests/e2e/browser/node_double.py", "--stubs",
            HAVEN_PYTHON_STUBS, "--node", holder().local_address(), "--ca",
            holder().ca_file(), "--server-name", kHolder, "--cert",
            pki + "/node.crt", "--key", pki + "/node.key", "--mode", "none",
            "--mode-file", mode_file},
        out_path, dir_.Join("node_double.err"));
    for (int i = 0; i < 300; ++i) {  // bounded: 30 s
      const std::string out = ReadFileOrEmpty(out_path);
      const size_t at = out.find("LISTENING ");
      if (at != std::string::npos && out.find('\n', at) != std::string::npos) {
        return "127.0.0.1:" + Trimmed(out.substr(at + 10));
      }
      if (!double_->running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "node_double.py did not start:\n"
                  << ReadFileOrEmpty(out_path)
                  << ReadFileOrEmpty(dir_.Join("node_double.err"));
    return "";
  }

  // Runs a scenario of tests/e2e/browser/ with the config `json` (the
  // fields common to every scenario are added); returns its exit code.
  int RunScenario(const std::string& script, const std::string& name,
                  const std::string& screenshots, const std::string& json) {
    const std::string config = dir_.Join(name + ".json");
    std::ofstream(config) << "{\n"
                          << "  \"screenshot_dir\": " << JsonString(screenshots)
                          << ",\n"
                          << "  \"profile_dir\": "
                          << JsonString(dir_.Join(name + "-profile")) << ",\n"
                          << "  \"chromium\": " << JsonString(kChromium)
                          << ",\n"
                          << "  \"chromedriver\": " << JsonString(kChromedriver)
                          << ",\n"
                          << json << "}\n";
    std::string out;
    const auto started = std::chrono::steady_clock::now();
    const int rc =
        RunCommand({HAVEN_SYSTEM_PYTHON,
                    SourceDir() + "/tests/e2e/browser/" + script, config},
                   &out, std::chrono::seconds(400));
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
    std::printf("---- %s as %s (%lld s, exit %d) ----\n%s\n", script.c_str(),
                name.c_str(), static_cast<long long>(seconds), rc, out.c_str());
    return rc;
  }

  std::string Account(const std::string& name, const std::string& code) {
    return absl::StrCat("{\"name\": ", JsonString(name),
                        ", \"enrolment_code\": ", JsonString(code),
                        ", \"password\": \"correct horse battery staple\"}");
  }

  TempDir dir_;
  std::unique_ptr<TestFederation> federation_;
  std::string console_dir_;
  std::unique_ptr<Subprocess> console_;
  std::string console_out_;
  std::string console_err_;
  std::string base_url_;
  // The auditor's test: a second console, in front of the node double.
  std::unique_ptr<Subprocess> double_;
  std::unique_ptr<Subprocess> double_console_;
};

std::string ScreenshotDir(const std::string& name) {
  return absl::StrCat(HAVEN_SCREENSHOT_DIR, "/", name);
}

// Acceptance 1 and 3: enrol, sign in, consent with preview and receipt,
// withdraw, the grantee refused, the access report; hostile content as
// text; CSRF, origin, expired and signed-out sessions refused.
TEST_F(ConsoleBrowserTest, AdvocateRecordsAndWithdrawsConsentSafely) {
  ASSERT_NO_FATAL_FAILURE(StartConsole({}));
  EXPECT_EQ(RunAdvocateScenario("ada.advocate", ScreenshotDir("advocate")), 0);
  // The console never logs a session token or a cookie.
  const std::string log = ReadFileOrEmpty(console_err_);
  EXPECT_THAT(log, HasSubstr("POST /api/sign-in 200"));
  EXPECT_THAT(log, Not(HasSubstr("haven-session")));
  EXPECT_THAT(log, Not(HasSubstr("Bearer")));

  // The holder's log names the person, not a role, for what she did
  // through the console: her sign-in and sign-out, and each consent change.
  FederationCalls calls(kHolder);
  calls.set_federation(federation_.get());
  calls.Connect(kHolder);
  std::map<haven::v1::EntryKind, int> by_her;
  for (const haven::v1::IndexedEntry& indexed : calls.Entries(kHolder)) {
    const haven::v1::AuditEntry& entry = indexed.entry();
    switch (entry.kind()) {
      case haven::v1::SIGN_IN:
      case haven::v1::SIGN_OUT:
      case haven::v1::CONSENT_RECORDED:
      case haven::v1::CONSENT_REVOKED:
        EXPECT_EQ(entry.principal(), "ada.advocate")
            << haven::v1::EntryKind_Name(entry.kind()) << " at "
            << indexed.index();
        ++by_her[entry.kind()];
        break;
      default:
        break;
    }
  }
  for (haven::v1::EntryKind kind :
       {haven::v1::SIGN_IN, haven::v1::SIGN_OUT, haven::v1::CONSENT_RECORDED,
        haven::v1::CONSENT_REVOKED}) {
    EXPECT_GE(by_her[kind], 1) << haven::v1::EntryKind_Name(kind);
  }
}

// Acceptance 6: haven-console as another user, unable to read the node's
// data dir, master key or TLS key, and every page still works.
TEST_F(ConsoleBrowserTest, ConsoleRunsAsAnotherUserWithoutNodeSecrets) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "not root: cannot run haven-console as another user "
                    "here (CI runs this test as root)";
  }
  ASSERT_EQ(access(kSetpriv, X_OK), 0) << "setpriv (util-linux) is missing";
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
  // setpriv execs haven-console in place: the process runs as nobody.
  const std::string status =
      ReadFileOrEmpty(absl::StrCat("/proc/", console_->pid(), "/status"));
  EXPECT_THAT(status, HasSubstr("Uid:\t65534\t65534\t65534"));
  EXPECT_THAT(status, HasSubstr("haven-console"));
  EXPECT_EQ(RunAdvocateScenario("bo.advocate",
                                ScreenshotDir("advocate-as-other-user")),
            0);
}

// Acceptance 2: an auditor opens a disclosure entry and the page verifies
// it in the browser; through a node double that flips one bit of the
// inclusion proof, signs the checkpoint with another key, or bends the
// proof that the log extends the checkpoint the browser kept, the page
// says verification failed.
TEST_F(ConsoleBrowserTest, AuditorVerifiesAnEntryInTheBrowser) {
  MakeDisclosure("CASE-audited");
  const std::string code = AddAccount(holder(), "ida.auditor", "auditor");
  ASSERT_NO_FATAL_FAILURE(StartConsole({}));
  const std::string mode_file = dir_.Join("double.mode");
  std::ofstream(mode_file) << "none\n";
  const std::string double_address = StartNodeDouble(mode_file);
  ASSERT_FALSE(double_address.empty());
  std::string double_url;
  ASSERT_NO_FATAL_FAILURE(StartConsoleFor(
      {}, double_address, kHolder, federation_->verifier_key(kHolder),
      &double_console_, &double_url, "double-console"));
  const int rc = RunScenario(
      "auditor_browser.py", "ida.auditor", ScreenshotDir("auditor"),
      absl::StrCat("  \"base_url\": ", JsonString(base_url_), ",\n",
                   "  \"double_console_url\": ", JsonString(double_url), ",\n",
                   "  \"double_mode_file\": ", JsonString(mode_file), ",\n",
                   "  \"auditor\": ", Account("ida.auditor", code), "\n"));
  EXPECT_EQ(rc, 0);
  const std::string tampered = ReadFileOrEmpty(dir_.Join("node_double.out"));
  std::printf("---- node_double.py ----\n%s\n", tampered.c_str());
  EXPECT_THAT(tampered,
              HasSubstr("TAMPERED /haven.v1.AuditService/GetInclusionProof"));
  EXPECT_THAT(tampered,
              HasSubstr("TAMPERED /haven.v1.AuditService/GetCheckpoint"));
  EXPECT_THAT(tampered,
              HasSubstr("TAMPERED /haven.v1.AuditService/GetConsistencyProof"));
}

// The caseworker's page at the grantee: the handle received, a request to
// the holder, the field that came and why the other category did not.
TEST_F(ConsoleBrowserTest, CaseworkerAsksAndSeesWhatCameAndWhyNot) {
  MakeDisclosure("CASE-asked", kHostileContactValue);
  const std::string code = AddAccount(grantee(), "cy.caseworker", "caseworker");
  std::string url;
  ASSERT_NO_FATAL_FAILURE(StartConsoleFor(
      {}, grantee().local_address(), kGrantee,
      federation_->verifier_key(kGrantee), &console_, &url, "console"));
  EXPECT_EQ(
      RunScenario(
          "caseworker_browser.py", "cy.caseworker", ScreenshotDir("caseworker"),
          absl::StrCat(
              "  \"base_url\": ", JsonString(url), ",\n",
              "  \"caseworker\": ", Account("cy.caseworker", code), ",\n",
              "  \"holder\": ", JsonString(kHolder), ",\n",
              "  \"purpose\": \"LEGAL_REPRESENTATION\",\n",
              "  \"given\": {\"CONTACT\": ", JsonString(kHostileContactValue),
              "},\n", "  \"withheld\": [\"CASE_NOTES\"]\n")),
      0);
}

}  // namespace
}  // namespace haven::testing
