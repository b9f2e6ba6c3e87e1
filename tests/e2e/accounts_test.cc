// End-to-end tests of personal accounts with a real havend: an admin adds
// a person with havenctl, the person enrols and signs in over gRPC (this
// test computes the TOTP codes, as the person's app would), acts with the
// session token and is named in the audit log; wrong credentials look
// alike, back off, and never reach a log; sign-out and disabling end
// sessions. Case references: create, find, refuse duplicates, forget on
// erasure. 127.0.0.1 only, bounded.
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "haven/v1/admin.grpc.pb.h"
#include "haven/v1/audit.grpc.pb.h"
#include "haven/v1/auth.grpc.pb.h"
#include "haven/v1/consent.grpc.pb.h"
#include "server/crypto/totp.h"
#include "tests/testing/otpauth_secret.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace v1 = ::haven::v1;

constexpr char kPassword[] = "correct horse battery staple";

// The six digits an authenticator app shows `delta` steps from now.
std::string TotpCode(const std::string& secret, int64_t delta = 0) {
  return server::crypto::HotpCode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(secret.data()),
                               secret.size()),
      server::crypto::TotpStep(NowUnix()) + delta, 6);
}

class AccountsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    node_ = StartLoneNode(dir_.path(), pki_.path(), &error);
    ASSERT_NE(node_, nullptr) << error;
    auth_ = v1::AuthService::NewStub(node_->LocalChannel());
  }

  // A context with no token, or with a session token.
  std::unique_ptr<grpc::ClientContext> Context(const std::string& token = "") {
    auto context = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) {
      context->AddMetadata("authorization", "Bearer " + token);
    }
    context->set_deadline(In(std::chrono::seconds(15)));
    return context;
  }

  int Ctl(const std::string& role, const std::vector<std::string>& args,
          std::string* out) {
    return node_->Havenctl(role, args, out);
  }

  // The admin adds `name` with havenctl; the person enrols over gRPC.
  // Returns the TOTP secret (raw). The app's first code is one step old,
  // so the next two steps stay free for sign-ins.
  std::string AddAndEnrol(const std::string& name, const std::string& role) {
    std::string out;
    EXPECT_EQ(
        Ctl("admin", {"admin", "user", "add", name, "--role", role}, &out), 0)
        << out;
    EXPECT_THAT(out, HasSubstr("in person"));
    std::smatch match;
    const std::regex code_line(R"(Enrolment code: ([A-Z2-7-]+))");
    if (!std::regex_search(out, match, code_line)) {
      ADD_FAILURE() << "no enrolment code in: " << out;
      return "";
    }
    const std::string code = match[1];
    v1::BeginEnrolmentRequest begin;
    begin.set_name(name);
    begin.set_enrolment_code(code);
    begin.set_new_password(kPassword);
    v1::BeginEnrolmentResponse totp;
    grpc::Status status = auth_->BeginEnrolment(Context().get(), begin, &totp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    const std::string& uri = totp.totp().otpauth_uri();
    const std::string secret = OtpauthSecret(uri);
    if (secret.empty()) {
      ADD_FAILURE() << "no secret in the otpauth URI";
      return "";
    }
    EXPECT_EQ(totp.totp().qr_modules().size(),
              size_t{totp.totp().qr_size()} * totp.totp().qr_size());
    v1::ConfirmEnrolmentRequest confirm;
    confirm.set_name(name);
    confirm.set_enrolment_code(code);
    confirm.set_totp_code(TotpCode(secret, -1));
    v1::ConfirmEnrolmentResponse confirmed;
    status = auth_->ConfirmEnrolment(Context().get(), confirm, &confirmed);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(confirmed.account().status(), v1::ACCOUNT_STATUS_ACTIVE);
    return secret;
  }

  grpc::Status SignIn(const std::string& name, const std::string& password,
                      const std::string& code, v1::SignInResponse* response) {
    v1::SignInRequest request;
    request.set_name(name);
    request.set_password(password);
    request.set_totp_code(code);
    return auth_->SignIn(Context().get(), request, response);
  }

  grpc::Status WhoAmI(const std::string& token, v1::WhoAmIResponse* who) {
    return auth_->WhoAmI(Context(token).get(), v1::WhoAmIRequest(), who);
  }

  // Every audit entry, as the auditor reads them.
  std::vector<v1::AuditEntry> Entries() {
    auto audit = v1::AuditService::NewStub(node_->LocalChannel());
    std::vector<v1::AuditEntry> entries;
    for (int page = 0; page < 100; ++page) {
      v1::GetEntriesRequest request;
      request.set_start(entries.size());
      request.set_count(1000);
      v1::GetEntriesResponse response;
      grpc::Status status = audit->GetEntries(
          node_->ClientContext("auditor").get(), request, &response);
      if (!status.ok() || response.entries().empty()) break;
      for (const auto& e : response.entries()) entries.push_back(e.entry());
    }
    return entries;
  }

  TempDir pki_;
  TempDir dir_;
  std::unique_ptr<TestNode> node_;
  std::unique_ptr<v1::AuthService::Stub> auth_;
};

TEST_F(AccountsE2eTest, PersonSignsInActsAndTheLogNamesThem) {
  const std::string secret = AddAndEnrol("maria.k", "advocate");
  v1::SignInResponse session;
  grpc::Status status =
      SignIn("maria.k", kPassword, TotpCode(secret), &session);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(session.role(), v1::ADVOCATE);
  EXPECT_GT(session.idle_expires_unix(), NowUnix() + 800);
  EXPECT_GT(session.absolute_expires_unix(), NowUnix() + 28000);

  v1::WhoAmIResponse who;
  ASSERT_TRUE(WhoAmI(session.session_token(), &who).ok());
  EXPECT_EQ(who.name(), "maria.k");
  EXPECT_TRUE(who.personal());

  std::string subject;
  ASSERT_EQ(Ctl("caseworker", {"records", "create-subject"}, &subject), 0)
      << subject;
  subject.erase(subject.find_last_not_of('\n') + 1);
  v1::RecordConsentRequest consent;
  const int64_t now = NowUnix();
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      absl::StrCat("consent { subject_id: '", subject,
                   "' grantee { sector: LEGAL_SERVICES } "
                   "purposes: LEGAL_REPRESENTATION categories: CONTACT "
                   "valid { from_unix: ",
                   now, " until_unix: ", now + 86400, " } evidence_sha256: '",
                   std::string(32, 'e'), "' }"),
      &consent));
  auto consents = v1::ConsentService::NewStub(node_->LocalChannel());
  v1::RecordConsentResponse recorded;
  status = consents->RecordConsent(Context(session.session_token()).get(),
                                   consent, &recorded);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // Every role may see the node's health and witness state.
  auto admin = v1::AdminService::NewStub(node_->LocalChannel());
  v1::GetStatusResponse health;
  status = admin->GetStatus(Context(session.session_token()).get(),
                            v1::GetStatusRequest(), &health);
  EXPECT_TRUE(status.ok()) << status.error_message();

  int consents_by_maria = 0;
  int sign_ins = 0;
  for (const v1::AuditEntry& entry : Entries()) {
    if (entry.kind() == v1::CONSENT_RECORDED) {
      EXPECT_EQ(entry.principal(), "maria.k");
      ++consents_by_maria;
    }
    if (entry.kind() == v1::SIGN_IN && entry.principal() == "maria.k") {
      ++sign_ins;
    }
    if (entry.kind() == v1::ACCOUNT_ADDED) {
      EXPECT_EQ(entry.principal(), node_->agency_id() + "-admin");
      EXPECT_THAT(entry.detail(), HasSubstr("maria.k"));
    }
  }
  EXPECT_EQ(consents_by_maria, 1);
  EXPECT_EQ(sign_ins, 1);
}

TEST_F(AccountsE2eTest, WrongCredentialsLookAlikeBackOffAndNeverReachALog) {
  const std::string secret = AddAndEnrol("tom.b", "caseworker");
  const std::string wrong_password = "Tr0ub4dor&3 typed badly";
  const std::string code = TotpCode(secret);
  v1::SignInResponse ignored;
  const grpc::Status bad_password =
      SignIn("tom.b", wrong_password, code, &ignored);
  const grpc::Status bad_code = SignIn("tom.b", kPassword, "000000", &ignored);
  const grpc::Status unknown =
      SignIn("hunter2.typed.as.name", kPassword, code, &ignored);
  for (const grpc::Status* s : {&bad_password, &bad_code, &unknown}) {
    EXPECT_EQ(s->error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(s->error_message(), bad_password.error_message());
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(SignIn("tom.b", wrong_password, code, &ignored).error_code(),
              grpc::StatusCode::UNAUTHENTICATED)
        << i;
  }
  // Five failures: the sixth attempt waits, even with the right password.
  const grpc::Status waiting = SignIn("tom.b", kPassword, code, &ignored);
  EXPECT_EQ(waiting.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << waiting.error_message();
  EXPECT_THAT(waiting.error_message(), HasSubstr("seconds"));

  std::vector<std::string> outcomes;
  std::string all_entries;
  std::string all_text;  // every text field of every entry
  for (const v1::AuditEntry& entry : Entries()) {
    all_entries += entry.SerializeAsString();
    all_text += entry.principal() + "\n" + entry.detail() + "\n" +
                entry.justification() + "\n";
    if (entry.kind() == v1::SIGN_IN_FAILED) {
      EXPECT_EQ(entry.principal(), "tom.b");
      outcomes.push_back(entry.detail());
    }
  }
  ASSERT_EQ(outcomes.size(), 6u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(outcomes[i], HasSubstr("wrong password or code")) << i;
  }
  EXPECT_THAT(outcomes[4], HasSubstr("backing off"));
  EXPECT_EQ(outcomes[5], "backing off");
  // Neither the passwords, nor the code, nor the name typed that is no
  // account's reach the audit log or havend's event log. (The event log is
  // checked for the texts only: six digits can occur there by chance.)
  const std::string event_log = node_->Log();
  for (const std::string& secret_text :
       {wrong_password, std::string(kPassword),
        std::string("hunter2.typed.as.name")}) {
    EXPECT_THAT(all_entries, Not(HasSubstr(secret_text))) << secret_text;
    EXPECT_THAT(event_log, Not(HasSubstr(secret_text))) << secret_text;
  }
  EXPECT_THAT(all_text, Not(HasSubstr(code)));
}

TEST_F(AccountsE2eTest, SignOutAndDisablingEndSessions) {
  const std::string secret = AddAndEnrol("ana.r", "auditor");
  v1::SignInResponse first;
  ASSERT_TRUE(SignIn("ana.r", kPassword, TotpCode(secret), &first).ok());
  v1::WhoAmIResponse who;
  ASSERT_TRUE(WhoAmI(first.session_token(), &who).ok());
  v1::SignOutResponse out;
  ASSERT_TRUE(auth_
                  ->SignOut(Context(first.session_token()).get(),
                            v1::SignOutRequest(), &out)
                  .ok());
  EXPECT_EQ(WhoAmI(first.session_token(), &who).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  v1::SignInResponse second;
  grpc::Status status =
      SignIn("ana.r", kPassword, TotpCode(secret, 1), &second);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(WhoAmI(second.session_token(), &who).ok());
  std::string ctl;
  ASSERT_EQ(
      Ctl("admin",
          {"admin", "user", "disable", "ana.r", "--reason", "left the agency"},
          &ctl),
      0)
      << ctl;
  EXPECT_EQ(WhoAmI(second.session_token(), &who).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::SignInResponse third;
  EXPECT_EQ(
      SignIn("ana.r", kPassword, TotpCode(secret, 1), &third).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_EQ(Ctl("admin", {"admin", "user", "list"}, &ctl), 0) << ctl;
  EXPECT_THAT(ctl, HasSubstr("ana.r"));
  EXPECT_THAT(ctl, HasSubstr("disabled"));
  // Only an admin manages accounts.
  EXPECT_NE(Ctl("auditor", {"admin", "user", "list"}, &ctl), 0);
  EXPECT_THAT(ctl, HasSubstr("needs ADMIN"));

  int sign_outs = 0;
  for (const v1::AuditEntry& entry : Entries()) {
    if (entry.kind() == v1::SIGN_OUT) {
      EXPECT_EQ(entry.principal(), "ana.r");
      ++sign_outs;
    }
  }
  EXPECT_EQ(sign_outs, 1);
}

TEST_F(AccountsE2eTest, CaseReferenceFindsTheSubjectUntilItIsErased) {
  std::string subject;
  ASSERT_EQ(
      Ctl("caseworker",
          {"records", "create-subject", "--case-reference", "SH-2026-0142"},
          &subject),
      0)
      << subject;
  subject.erase(subject.find_last_not_of('\n') + 1);
  std::string out;
  for (const char* role : {"caseworker", "advocate"}) {
    ASSERT_EQ(
        Ctl(role,
            {"records", "find-subject", "--case-reference", "SH-2026-0142"},
            &out),
        0)
        << out;
    EXPECT_EQ(out, subject + "\n");
  }
  EXPECT_NE(
      Ctl("caseworker",
          {"records", "create-subject", "--case-reference", "SH-2026-0142"},
          &out),
      0);
  EXPECT_THAT(out, HasSubstr("already"));
  EXPECT_NE(Ctl("caseworker",
                {"records", "find-subject", "--case-reference", "SH-2026-0143"},
                &out),
            0);
  // The reference is kept only as a keyed hash: nowhere under the node's
  // directory (data, logs) in clear.
  for (const auto& file :
       std::filesystem::recursive_directory_iterator(node_->dir())) {
    if (!file.is_regular_file()) continue;
    EXPECT_THAT(ReadFileOrEmpty(file.path().string()),
                Not(HasSubstr("SH-2026-0142")))
        << file.path();
  }
  ASSERT_EQ(Ctl("caseworker",
                {"records", "erase", "--subject", subject, "--reason",
                 "survivor asked"},
                &out),
            0)
      << out;
  EXPECT_NE(Ctl("caseworker",
                {"records", "find-subject", "--case-reference", "SH-2026-0142"},
                &out),
            0);
  EXPECT_THAT(out, HasSubstr("no subject"));
}

}  // namespace
}  // namespace haven::testing
