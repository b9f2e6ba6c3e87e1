// Accounts with a fake clock on the in-process commit path (TestLog):
// enrolment, sign-in, the one answer to every wrong credential, backoff
// and lock, admin changes ending sessions, what the log says (and never
// says), and what reaches the disk.
#include "server/auth/accounts.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/crypto/digest.h"
#include "server/crypto/totp.h"
#include "tests/testing/otpauth_secret.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_log.h"

namespace haven::server::auth {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
namespace v1 = ::haven::v1;

constexpr char kPassword[] = "a long passphrase, 2026";

// The secret= parameter of an otpauth URI.
class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = haven::testing::TestLog::Create();
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    MakeAccounts();
  }

  void MakeAccounts() {
    sessions_ = std::make_unique<SessionTable>(
        SessionTable::Options{&log_->clock(), 900, 28800});
    Accounts::Options options;
    options.storage = &log_->storage();
    options.sealer = &log_->sealer();
    options.audit = &log_->recorder();
    options.clock = &log_->clock();
    options.sessions = sessions_.get();
    options.password_cost = crypto::PasswordCost::Interactive();
    options.reserved_names = {"caseworker", "havend"};
    options.issuer = "safe-harbor";
    auto accounts = Accounts::Create(std::move(options));
    ASSERT_THAT(accounts, IsOk());
    accounts_ = *std::move(accounts);
  }

  int64_t Now() { return log_->clock().NowUnix(); }

  std::string Code(const std::string& secret, int64_t delta = 0) {
    return crypto::HotpCode(
        std::span<const uint8_t>(
            reinterpret_cast<const uint8_t*>(secret.data()), secret.size()),
        crypto::TotpStep(Now()) + delta, 6);
  }

  // Adds `name` and enrols it (the app's code one step old); returns the
  // TOTP secret, raw. The enrolment code goes to `code` when asked.
  std::string Enrol(const std::string& name, v1::Role role = v1::ADVOCATE,
                    std::string* code = nullptr) {
    auto added = accounts_->Add("root.admin", name, role);
    EXPECT_THAT(added, IsOk());
    if (!added.ok()) return "";
    if (code != nullptr) *code = added->code;
    auto totp = accounts_->BeginEnrolment(name, added->code, kPassword);
    EXPECT_THAT(totp, IsOk());
    if (!totp.ok()) return "";
    EXPECT_THAT(totp->otpauth_uri(),
                HasSubstr("otpauth://totp/safe-harbor:" + name + "?secret="));
    EXPECT_GT(totp->qr_size(), 20u);
    EXPECT_EQ(totp->qr_modules().size(),
              size_t{totp->qr_size()} * totp->qr_size());
    std::string secret = haven::testing::OtpauthSecret(totp->otpauth_uri());
    EXPECT_EQ(secret.size(), crypto::kTotpSecretBytes);
    auto confirmed =
        accounts_->ConfirmEnrolment(name, added->code, Code(secret, -1));
    EXPECT_THAT(confirmed, IsOk());
    if (confirmed.ok()) {
      EXPECT_EQ(confirmed->status(), v1::ACCOUNT_STATUS_ACTIVE);
    }
    return secret;
  }

  std::vector<v1::AuditEntry> Entries() {
    auto entries = log_->log().GetEntries(0, log_->log().Size());
    EXPECT_THAT(entries, IsOk());
    std::vector<v1::AuditEntry> out;
    if (entries.ok()) {
      for (const auto& e : *entries) out.push_back(e.entry());
    }
    return out;
  }
  v1::AuditEntry LastEntry() { return Entries().back(); }

  // Every key and value of every family, concatenated: the raw disk.
  std::string RawStorage() {
    std::string all;
    for (int f = 0; f < storage::kFamilyCount; ++f) {
      auto family = static_cast<storage::Family>(f);
      for (const std::string& key : log_->storage().Keys(family)) {
        auto value = log_->storage().Get(family, key);
        all += key;
        if (value.ok() && value->has_value()) all += **value;
      }
    }
    return all;
  }

  std::unique_ptr<haven::testing::TestLog> log_;
  std::unique_ptr<SessionTable> sessions_;
  std::unique_ptr<Accounts> accounts_;
};

TEST_F(AccountsTest, EnrolledPersonSignsInAndTheLogNamesThem) {
  const std::string secret = Enrol("maria.k");
  EXPECT_EQ(LastEntry().kind(), v1::ACCOUNT_ENROLLED);
  EXPECT_EQ(LastEntry().principal(), "maria.k");
  auto session = accounts_->SignIn("maria.k", kPassword, Code(secret));
  ASSERT_THAT(session, IsOk());
  EXPECT_EQ(session->name(), "maria.k");
  EXPECT_EQ(session->role(), v1::ADVOCATE);
  EXPECT_EQ(session->idle_expires_unix(), Now() + 900);
  EXPECT_EQ(session->absolute_expires_unix(), Now() + 28800);
  EXPECT_EQ(LastEntry().kind(), v1::SIGN_IN);
  EXPECT_EQ(LastEntry().principal(), "maria.k");
  auto live = sessions_->Touch(crypto::Sha256(session->session_token()));
  ASSERT_TRUE(live.has_value());
  EXPECT_EQ(live->name, "maria.k");
}

TEST_F(AccountsTest, WrongNamePasswordOrCodeGetOneAnswer) {
  const std::string secret = Enrol("maria.k");
  auto wrong_password =
      accounts_->SignIn("maria.k", "not the password", Code(secret));
  auto wrong_code = accounts_->SignIn("maria.k", kPassword, "000000");
  auto unknown = accounts_->SignIn("nobody", kPassword, Code(secret));
  for (const auto* attempt : {&wrong_password, &wrong_code, &unknown}) {
    EXPECT_THAT(*attempt, StatusIs(absl::StatusCode::kUnauthenticated));
  }
  EXPECT_EQ(wrong_password.status(), wrong_code.status());
  EXPECT_EQ(wrong_password.status(), unknown.status());
}

TEST_F(AccountsTest, AttemptsOnUnknownNamesAreNotLogged) {
  Enrol("maria.k");
  const uint64_t size = log_->log().Size();
  // A password typed into the name box must not reach the log.
  EXPECT_THAT(accounts_->SignIn("hunter2hunter2", kPassword, "123456"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(log_->log().Size(), size);
}

TEST_F(AccountsTest, FailuresAreLoggedWithOutcomeButNeverThePasswordOrCode) {
  const std::string secret = Enrol("maria.k");
  const std::string typed_password = "Tr0ub4dor&3-typo";
  const std::string code = Code(secret);
  ASSERT_THAT(accounts_->SignIn("maria.k", typed_password, code),
              StatusIs(absl::StatusCode::kUnauthenticated));
  v1::AuditEntry failed = LastEntry();
  EXPECT_EQ(failed.kind(), v1::SIGN_IN_FAILED);
  EXPECT_EQ(failed.principal(), "maria.k");
  EXPECT_THAT(failed.detail(), HasSubstr("wrong password or code"));
  ASSERT_THAT(accounts_->SignIn("maria.k", kPassword, code), IsOk());
  for (const v1::AuditEntry& entry : Entries()) {
    const std::string bytes = entry.SerializeAsString();
    EXPECT_THAT(bytes, Not(HasSubstr(typed_password)));
    EXPECT_THAT(bytes, Not(HasSubstr(kPassword)));
    // Text fields only: six digits may occur in binary fields by chance.
    for (const std::string& text :
         {entry.principal(), entry.detail(), entry.justification()}) {
      EXPECT_THAT(text, Not(HasSubstr(code)));
    }
  }
}

TEST_F(AccountsTest, FifthFailureBacksOffUntilTheWaitIsOver) {
  const std::string secret = Enrol("maria.k");
  for (int i = 1; i <= 5; ++i) {
    ASSERT_THAT(
        accounts_->SignIn("maria.k", "guess number " + std::to_string(i),
                          Code(secret)),
        StatusIs(absl::StatusCode::kUnauthenticated))
        << i;
  }
  // Even the right password and code wait now.
  auto waiting = accounts_->SignIn("maria.k", kPassword, Code(secret));
  EXPECT_THAT(waiting, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(waiting.status().message(), HasSubstr("30 seconds"));
  EXPECT_EQ(LastEntry().kind(), v1::SIGN_IN_FAILED);
  EXPECT_EQ(LastEntry().detail(), "backing off");
  log_->clock().Advance(30);
  ASSERT_THAT(accounts_->SignIn("maria.k", kPassword, Code(secret)), IsOk());
  auto listed = accounts_->List();
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].failed_sign_ins(), 0u);
}

TEST_F(AccountsTest, BackoffDoublesAndTheAccountLocksUntilAnAdminResets) {
  const std::string secret = Enrol("maria.k");
  int64_t last_wait = 0;
  for (uint32_t i = 1; i <= limits::kMaxFailedSignIns; ++i) {
    ASSERT_THAT(accounts_->SignIn("maria.k", "wrong password!", "000000"),
                StatusIs(absl::StatusCode::kUnauthenticated))
        << i;
    auto listed = accounts_->List();
    ASSERT_THAT(listed, IsOk());
    const v1::Account& account = (*listed)[0];
    EXPECT_EQ(account.failed_sign_ins(), i);
    if (i >= limits::kSignInFailuresBeforeBackoff &&
        i < limits::kMaxFailedSignIns) {
      const int64_t wait = account.retry_after_unix() - Now();
      EXPECT_GE(wait, last_wait) << i;
      EXPECT_LE(wait, limits::kSignInBackoffMaxSeconds) << i;
      if (last_wait > 0 && last_wait < limits::kSignInBackoffMaxSeconds) {
        EXPECT_EQ(wait,
                  std::min(2 * last_wait, limits::kSignInBackoffMaxSeconds));
      }
      last_wait = wait;
      log_->clock().Advance(wait);
    }
  }
  EXPECT_THAT(LastEntry().detail(), HasSubstr("locked"));
  // Locked: the right password and code are refused, however long one
  // waits.
  log_->clock().Advance(7 * 86400);
  EXPECT_THAT(accounts_->SignIn("maria.k", kPassword, Code(secret)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(LastEntry().detail(), "locked");
  auto reset = accounts_->Reset("root.admin", "maria.k", "locked out, called");
  ASSERT_THAT(reset, IsOk());
  EXPECT_EQ(reset->account.status(), v1::ACCOUNT_STATUS_ENROLLING);
  EXPECT_EQ(LastEntry().kind(), v1::ACCOUNT_RESET);
  EXPECT_EQ(LastEntry().principal(), "root.admin");
  // The old password and secret are gone with the reset.
  EXPECT_THAT(accounts_->SignIn("maria.k", kPassword, Code(secret)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  auto totp = accounts_->BeginEnrolment("maria.k", reset->code, kPassword);
  ASSERT_THAT(totp, IsOk());
  const std::string fresh = haven::testing::OtpauthSecret(totp->otpauth_uri());
  EXPECT_NE(fresh, secret);
  ASSERT_THAT(accounts_->ConfirmEnrolment("maria.k", reset->code, Code(fresh)),
              IsOk());
  log_->clock().Advance(30);
  EXPECT_THAT(accounts_->SignIn("maria.k", kPassword, Code(fresh)), IsOk());
}

TEST_F(AccountsTest, ReplayedCodeIsRefused) {
  const std::string secret = Enrol("maria.k");
  const std::string code = Code(secret);
  ASSERT_THAT(accounts_->SignIn("maria.k", kPassword, code), IsOk());
  // Someone who saw the code over the person's shoulder, within 30 s.
  EXPECT_THAT(accounts_->SignIn("maria.k", kPassword, code),
              StatusIs(absl::StatusCode::kUnauthenticated));
  // The code the enrolment used (one step older) is no good either.
  EXPECT_THAT(accounts_->SignIn("maria.k", kPassword, Code(secret, -1)),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(AccountsTest, DisableEndsSessionsAtOnceAndRefusesSignIn) {
  const std::string secret = Enrol("maria.k");
  auto session = accounts_->SignIn("maria.k", kPassword, Code(secret));
  ASSERT_THAT(session, IsOk());
  const std::string digest = crypto::Sha256(session->session_token());
  ASSERT_THAT(accounts_->Disable("root.admin", "maria.k", "left the agency"),
              IsOk());
  EXPECT_EQ(LastEntry().kind(), v1::ACCOUNT_DISABLED);
  EXPECT_EQ(LastEntry().principal(), "root.admin");
  EXPECT_THAT(LastEntry().detail(), HasSubstr("maria.k"));
  EXPECT_FALSE(sessions_->Touch(digest).has_value());
  log_->clock().Advance(30);
  EXPECT_THAT(accounts_->SignIn("maria.k", kPassword, Code(secret)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(LastEntry().kind(), v1::SIGN_IN_FAILED);
  EXPECT_EQ(LastEntry().detail(), "disabled");
}

TEST_F(AccountsTest, SignOutEndsTheSessionAndIsLogged) {
  const std::string secret = Enrol("maria.k");
  auto session = accounts_->SignIn("maria.k", kPassword, Code(secret));
  ASSERT_THAT(session, IsOk());
  Principal who;
  who.name = "maria.k";
  who.role = v1::ADVOCATE;
  who.session_sha256 = crypto::Sha256(session->session_token());
  ASSERT_THAT(accounts_->SignOut(who), IsOk());
  EXPECT_EQ(LastEntry().kind(), v1::SIGN_OUT);
  EXPECT_EQ(LastEntry().principal(), "maria.k");
  EXPECT_FALSE(sessions_->Touch(who.session_sha256).has_value());
  // A configured token has no session to end.
  Principal machine;
  machine.name = "advocate";
  machine.role = v1::ADVOCATE;
  EXPECT_THAT(accounts_->SignOut(machine),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(AccountsTest, NamesAreCheckedAndCannotTakeAConfiguredPrincipal) {
  EXPECT_THAT(accounts_->Add("root.admin", "caseworker", v1::CASEWORKER),
              StatusIs(absl::StatusCode::kAlreadyExists));
  for (const std::string& bad :
       {std::string(), std::string("Maria"), std::string(".hidden"),
        std::string("a b"), std::string(65, 'a')}) {
    EXPECT_THAT(accounts_->Add("root.admin", bad, v1::CASEWORKER),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
  EXPECT_THAT(accounts_->Add("root.admin", "maria.k", v1::ROLE_UNSPECIFIED),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(accounts_->Add("root.admin", "maria.k", v1::CASEWORKER), IsOk());
  EXPECT_THAT(accounts_->Add("root.admin", "maria.k", v1::ADVOCATE),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(AccountsTest, EnrolmentCodeIsSingleUseAndExpires) {
  auto added = accounts_->Add("root.admin", "maria.k", v1::ADVOCATE);
  ASSERT_THAT(added, IsOk());
  EXPECT_EQ(added->expires_unix, Now() + limits::kEnrolmentCodeSeconds);
  EXPECT_THAT(
      accounts_->BeginEnrolment("maria.k", "AAAA-BBBB-CCCC-DDDD", kPassword),
      StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(accounts_->BeginEnrolment("maria.k", added->code, "short"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  log_->clock().Advance(limits::kEnrolmentCodeSeconds);
  EXPECT_THAT(accounts_->BeginEnrolment("maria.k", added->code, kPassword),
              StatusIs(absl::StatusCode::kUnauthenticated));

  std::string code;
  const std::string secret = Enrol("tom.b", v1::CASEWORKER, &code);
  // Used: the code cannot enrol again (and so cannot replace the password).
  EXPECT_THAT(accounts_->BeginEnrolment("tom.b", code, "another password!"),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(AccountsTest, AccountsSurviveARestartWithNoSecretInClearOnDisk) {
  std::string code;
  const std::string secret = Enrol("maria.k", v1::ADVOCATE, &code);
  auto session = accounts_->SignIn("maria.k", kPassword, Code(secret));
  ASSERT_THAT(session, IsOk());
  ASSERT_THAT(log_->Restart(), IsOk());
  MakeAccounts();
  // Sessions live in memory only: a restart ends them.
  EXPECT_FALSE(
      sessions_->Touch(crypto::Sha256(session->session_token())).has_value());
  log_->clock().Advance(30);
  ASSERT_THAT(accounts_->SignIn("maria.k", kPassword, Code(secret)), IsOk());

  const std::string raw = RawStorage();
  const std::string b32 = crypto::Base32Encode(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(secret.data()), secret.size()));
  EXPECT_THAT(raw, Not(HasSubstr(kPassword)));
  EXPECT_THAT(raw, Not(HasSubstr(secret)));
  EXPECT_THAT(raw, Not(HasSubstr(b32)));
  EXPECT_THAT(raw, Not(HasSubstr(absl::BytesToHexString(secret))));
  EXPECT_THAT(raw, Not(HasSubstr(code)));
  EXPECT_THAT(raw, Not(HasSubstr(session->session_token())));
  EXPECT_THAT(raw, Not(HasSubstr("$argon2id$")));
}

TEST_F(AccountsTest, AnAlteredStoredAccountDoesNotOpen) {
  Enrol("maria.k");
  Enrol("tom.b");
  auto stored = log_->storage().Get(storage::Family::kMeta, "account/maria.k");
  ASSERT_THAT(stored, IsOk());
  ASSERT_TRUE(stored->has_value());
  // Copied over another account (to take its role, say): refused.
  log_->storage().Tamper(storage::Family::kMeta, "account/tom.b", **stored);
  EXPECT_THAT(accounts_->List(), StatusIs(absl::StatusCode::kDataLoss));
  // A flipped bit: refused.
  std::string flipped = **stored;
  flipped[flipped.size() / 2] ^= 1;
  log_->storage().Tamper(storage::Family::kMeta, "account/tom.b", std::nullopt);
  log_->storage().Tamper(storage::Family::kMeta, "account/maria.k", flipped);
  EXPECT_THAT(accounts_->List(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(accounts_->SignIn("maria.k", kPassword, "123456"),
              StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace haven::server::auth
