#include "server/auth/accounts.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "server/auth/qr_code.h"
#include "server/crypto/aead.h"
#include "server/crypto/digest.h"
#include "server/crypto/key_derivation.h"
#include "server/crypto/totp.h"

namespace haven::server::auth {
namespace {

namespace v1 = ::haven::v1;

constexpr absl::string_view kKeyPrefix = "account/";
// The one answer to a wrong name, password or code.
constexpr absl::string_view kWrongCredentials = "wrong name, password or code";
constexpr absl::string_view kWrongEnrolment =
    "wrong name or enrolment code, or the code has expired: ask an admin "
    "for a new one";

std::string KeyOf(absl::string_view name) {
  return absl::StrCat(kKeyPrefix, name);
}
std::string PlaceOf(absl::string_view key) {
  return absl::StrCat("meta/", key);
}

bool IsPersonRole(v1::Role role) {
  return role == v1::CASEWORKER || role == v1::ADVOCATE ||
         role == v1::AUDITOR || role == v1::ADMIN;
}

// An enrolment code as typed: upper case, without dashes or spaces.
std::string CanonicalCode(absl::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

crypto::SecretBytes SecretOf(const v1::StoredAccount& account) {
  return crypto::SecretBytes::CopyFrom(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(account.totp_secret().data()),
      account.totp_secret().size()));
}

absl::Status CheckReason(const std::string& reason) {
  return CheckPlainText(reason, "reason", limits::kMaxReasonBytes,
                        /*required=*/true);
}

int64_t BackoffSeconds(uint32_t failures) {
  const uint32_t doublings =
      std::min<uint32_t>(failures - limits::kSignInFailuresBeforeBackoff, 20);
  return std::min(limits::kSignInBackoffFirstSeconds << doublings,
                  limits::kSignInBackoffMaxSeconds);
}

}  // namespace

bool IsValidAccountName(absl::string_view name) {
  if (name.empty() || name.size() > limits::kMaxAccountNameBytes) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

v1::Account PublicView(const v1::StoredAccount& stored) {
  v1::Account account;
  account.set_name(stored.name());
  account.set_role(stored.role());
  account.set_status(stored.status());
  account.set_created_unix(stored.created_unix());
  account.set_last_sign_in_unix(stored.last_sign_in_unix());
  account.set_failed_sign_ins(stored.failed_sign_ins());
  account.set_retry_after_unix(stored.retry_after_unix());
  return account;
}

absl::StatusOr<std::unique_ptr<Accounts>> Accounts::Create(Options options) {
  if (options.storage == nullptr || options.sealer == nullptr ||
      options.audit == nullptr || options.clock == nullptr ||
      options.sessions == nullptr) {
    return absl::InvalidArgumentError(
        "accounts need a storage, a sealer, an audit recorder, a clock and a "
        "session table");
  }
  auto accounts = std::unique_ptr<Accounts>(new Accounts(std::move(options)));
  HAVEN_ASSIGN_OR_RETURN(
      accounts->dummy_hash_,
      crypto::HashPassword(crypto::RandomHexId(16),
                           accounts->options_.password_cost));
  return accounts;
}

Accounts::Accounts(Options options) : options_(std::move(options)) {}

absl::StatusOr<std::optional<v1::StoredAccount>> Accounts::Load(
    const std::string& name) const {
  const std::string key = KeyOf(name);
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> sealed,
                         options_.storage->Get(storage::Family::kMeta, key));
  if (!sealed.has_value()) return std::nullopt;
  HAVEN_ASSIGN_OR_RETURN(
      std::string plain,
      options_.sealer->Open(PlaceOf(key), *sealed, "a stored account"));
  v1::StoredAccount account;
  const bool parsed = account.ParseFromString(plain);
  crypto::WipeString(plain);
  if (!parsed || account.name() != name) {
    return absl::DataLossError("a stored account is malformed");
  }
  return account;
}

absl::StatusOr<v1::StoredAccount> Accounts::LoadExisting(
    const std::string& name) const {
  if (!IsValidAccountName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("an account name is 1 to ", limits::kMaxAccountNameBytes,
                     " characters of a-z, 0-9, '.', '_' and '-', starting "
                     "with a letter or digit"));
  }
  HAVEN_ASSIGN_OR_RETURN(std::optional<v1::StoredAccount> account, Load(name));
  if (!account.has_value()) {
    return absl::NotFoundError(absl::StrCat("no account named '", name, "'"));
  }
  return *std::move(account);
}

void Accounts::Put(const v1::StoredAccount& account,
                   storage::WriteBatch* batch) const {
  const std::string key = KeyOf(account.name());
  std::string plain = account.SerializeAsString();
  batch->Put(storage::Family::kMeta, key,
             options_.sealer->Seal(PlaceOf(key), plain));
  crypto::WipeString(plain);
}

absl::Status Accounts::CommitWith(const v1::StoredAccount& account,
                                  v1::EntryKind kind, std::string detail,
                                  const std::string& principal) const {
  v1::AuditEntry entry;
  entry.set_kind(kind);
  entry.set_detail(std::move(detail));
  audit::Action action;
  action.entries.push_back(
      options_.audit->Stamped(std::move(entry), principal, ""));
  Put(account, &action.state);
  return options_.audit->Commit(std::move(action)).status();
}

absl::Status Accounts::LogRefused(const std::string& name,
                                  absl::string_view detail) const {
  v1::AuditEntry entry;
  entry.set_kind(v1::SIGN_IN_FAILED);
  entry.set_detail(std::string(detail));
  return options_.audit->Record(std::move(entry), name, "").status();
}

Accounts::Enrolment Accounts::NewEnrolment(v1::StoredAccount* account) const {
  const std::string random = crypto::RandomBytes(10);
  const std::string b32 = crypto::Base32Encode(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(random.data()), random.size()));
  Enrolment enrolment;
  enrolment.code = absl::StrCat(b32.substr(0, 4), "-", b32.substr(4, 4), "-",
                                b32.substr(8, 4), "-", b32.substr(12, 4));
  enrolment.expires_unix =
      options_.clock->NowUnix() + limits::kEnrolmentCodeSeconds;
  account->set_status(v1::ACCOUNT_STATUS_ENROLLING);
  account->set_enrolment_code_sha256(crypto::Sha256(b32));
  account->set_enrolment_expires_unix(enrolment.expires_unix);
  account->clear_password_hash();
  account->clear_totp_secret();
  account->set_last_totp_step(0);
  account->set_failed_sign_ins(0);
  account->set_retry_after_unix(0);
  return enrolment;
}

absl::StatusOr<Accounts::Enrolment> Accounts::Add(const std::string& admin,
                                                  const std::string& name,
                                                  v1::Role role) {
  if (!IsValidAccountName(name)) return LoadExisting(name).status();
  if (!IsPersonRole(role)) {
    return absl::InvalidArgumentError(
        "role must be CASEWORKER, ADVOCATE, AUDITOR or ADMIN");
  }
  if (options_.reserved_names.count(name) > 0) {
    return absl::AlreadyExistsError(absl::StrCat(
        "'", name, "' is a configured principal's name; choose another"));
  }
  absl::MutexLock lock(&mu_);
  HAVEN_ASSIGN_OR_RETURN(std::optional<v1::StoredAccount> existing, Load(name));
  if (existing.has_value()) {
    return absl::AlreadyExistsError(
        absl::StrCat("an account named '", name, "' exists"));
  }
  size_t count = 0;
  HAVEN_RETURN_IF_ERROR(
      options_.storage->Scan(storage::Family::kMeta, kKeyPrefix,
                             [&](absl::string_view, absl::string_view) {
                               ++count;
                               return true;
                             }));
  if (count >= limits::kMaxAccounts) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the node holds ", limits::kMaxAccounts, " accounts, its limit"));
  }
  v1::StoredAccount account;
  account.set_name(name);
  account.set_role(role);
  account.set_created_unix(options_.clock->NowUnix());
  Enrolment enrolment = NewEnrolment(&account);
  HAVEN_RETURN_IF_ERROR(CommitWith(
      account, v1::ACCOUNT_ADDED,
      absl::StrCat("account ", name, " added with role ", v1::Role_Name(role)),
      admin));
  enrolment.account = PublicView(account);
  return enrolment;
}

absl::StatusOr<v1::Account> Accounts::Disable(const std::string& admin,
                                              const std::string& name,
                                              const std::string& reason) {
  HAVEN_RETURN_IF_ERROR(CheckReason(reason));
  absl::MutexLock lock(&mu_);
  HAVEN_ASSIGN_OR_RETURN(v1::StoredAccount account, LoadExisting(name));
  account.set_status(v1::ACCOUNT_STATUS_DISABLED);
  account.clear_enrolment_code_sha256();
  account.set_enrolment_expires_unix(0);
  // Sessions end first: whatever becomes of the write, the person is out.
  options_.sessions->EndAllFor(name);
  HAVEN_RETURN_IF_ERROR(
      CommitWith(account, v1::ACCOUNT_DISABLED,
                 absl::StrCat("account ", name, " disabled: ", reason), admin));
  return PublicView(account);
}

absl::StatusOr<Accounts::Enrolment> Accounts::Reset(const std::string& admin,
                                                    const std::string& name,
                                                    const std::string& reason) {
  HAVEN_RETURN_IF_ERROR(CheckReason(reason));
  absl::MutexLock lock(&mu_);
  HAVEN_ASSIGN_OR_RETURN(v1::StoredAccount account, LoadExisting(name));
  Enrolment enrolment = NewEnrolment(&account);
  options_.sessions->EndAllFor(name);
  HAVEN_RETURN_IF_ERROR(
      CommitWith(account, v1::ACCOUNT_RESET,
                 absl::StrCat("account ", name, " reset: ", reason), admin));
  enrolment.account = PublicView(account);
  return enrolment;
}

absl::StatusOr<std::vector<v1::Account>> Accounts::List() const {
  std::vector<v1::Account> accounts;
  absl::Status failed;
  HAVEN_RETURN_IF_ERROR(options_.storage->Scan(
      storage::Family::kMeta, kKeyPrefix,
      [&](absl::string_view key, absl::string_view sealed) {
        absl::StatusOr<std::string> plain =
            options_.sealer->Open(PlaceOf(key), sealed, "a stored account");
        if (!plain.ok()) {
          failed = plain.status();
          return false;
        }
        v1::StoredAccount stored;
        const bool parsed = stored.ParseFromString(*plain);
        crypto::WipeString(*plain);
        if (!parsed) {
          failed = absl::DataLossError("a stored account is malformed");
          return false;
        }
        accounts.push_back(PublicView(stored));
        return true;
      }));
  HAVEN_RETURN_IF_ERROR(failed);
  return accounts;
}

absl::StatusOr<v1::StoredAccount> Accounts::LoadEnrolling(
    const std::string& name, const std::string& code) const {
  const absl::Status wrong = absl::UnauthenticatedError(kWrongEnrolment);
  if (!IsValidAccountName(name) || code.size() > limits::kMaxEnrolmentCodeBytes)
    return wrong;
  HAVEN_ASSIGN_OR_RETURN(std::optional<v1::StoredAccount> account, Load(name));
  const std::string digest = crypto::Sha256(CanonicalCode(code));
  if (!account.has_value() ||
      account->status() != v1::ACCOUNT_STATUS_ENROLLING ||
      !crypto::ConstantTimeEquals(digest, account->enrolment_code_sha256()) ||
      options_.clock->NowUnix() >= account->enrolment_expires_unix()) {
    return wrong;
  }
  return *std::move(account);
}

absl::StatusOr<v1::TotpEnrolment> Accounts::BeginEnrolment(
    const std::string& name, const std::string& code,
    const std::string& password) {
  absl::MutexLock lock(&mu_);
  HAVEN_ASSIGN_OR_RETURN(v1::StoredAccount account, LoadEnrolling(name, code));
  if (password.size() < limits::kMinPasswordBytes ||
      password.size() > limits::kMaxPasswordBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a password is ", limits::kMinPasswordBytes, " to ",
                     limits::kMaxPasswordBytes, " bytes"));
  }
  HAVEN_ASSIGN_OR_RETURN(
      std::string hash, crypto::HashPassword(password, options_.password_cost));
  account.set_password_hash(std::move(hash));
  crypto::SecretBytes secret =
      crypto::SecretBytes::Random(crypto::kTotpSecretBytes);
  account.set_totp_secret(reinterpret_cast<const char*>(secret.data()),
                          secret.size());
  account.set_last_totp_step(0);
  std::string b32 = crypto::Base32Encode(secret.span());
  v1::TotpEnrolment enrolment;
  enrolment.set_otpauth_uri(absl::StrCat(
      "otpauth://totp/", options_.issuer, ":", name, "?secret=", b32,
      "&issuer=", options_.issuer, "&algorithm=SHA1&digits=",
      crypto::kTotpDigits, "&period=", crypto::kTotpStepSeconds));
  crypto::WipeString(b32);
  HAVEN_ASSIGN_OR_RETURN(QrCode qr, EncodeQr(enrolment.otpauth_uri()));
  enrolment.set_qr_size(qr.size);
  enrolment.set_qr_modules(std::move(qr.modules));
  // Not logged: nothing is in force until ConfirmEnrolment.
  storage::WriteBatch batch;
  Put(account, &batch);
  crypto::WipeString(*account.mutable_totp_secret());
  HAVEN_RETURN_IF_ERROR(options_.storage->Write(batch, /*sync=*/true));
  return enrolment;
}

absl::StatusOr<v1::Account> Accounts::ConfirmEnrolment(
    const std::string& name, const std::string& code,
    const std::string& totp_code) {
  absl::MutexLock lock(&mu_);
  HAVEN_ASSIGN_OR_RETURN(v1::StoredAccount account, LoadEnrolling(name, code));
  if (account.password_hash().empty() || account.totp_secret().empty()) {
    return absl::FailedPreconditionError(
        "choose a password first (BeginEnrolment)");
  }
  std::optional<uint64_t> step;
  if (totp_code.size() <= limits::kMaxTotpCodeBytes) {
    step =
        crypto::MatchTotp(SecretOf(account), totp_code,
                          options_.clock->NowUnix(), account.last_totp_step());
  }
  if (!step.has_value()) {
    return absl::UnauthenticatedError(
        "wrong code: check that the authenticator app's clock is right and "
        "try its next code");
  }
  account.set_status(v1::ACCOUNT_STATUS_ACTIVE);
  account.set_last_totp_step(*step);
  account.clear_enrolment_code_sha256();
  account.set_enrolment_expires_unix(0);
  HAVEN_RETURN_IF_ERROR(CommitWith(account, v1::ACCOUNT_ENROLLED,
                                   "enrolment finished; account active", name));
  crypto::WipeString(*account.mutable_totp_secret());
  return PublicView(account);
}

absl::Status Accounts::CountFailure(v1::StoredAccount account, int64_t now) {
  const uint32_t failures = account.failed_sign_ins() + 1;
  account.set_failed_sign_ins(failures);
  std::string detail = "wrong password or code";
  if (failures >= limits::kMaxFailedSignIns) {
    account.set_status(v1::ACCOUNT_STATUS_LOCKED);
    account.set_retry_after_unix(0);
    absl::StrAppend(&detail, "; locked after ", failures, " failures");
  } else if (failures >= limits::kSignInFailuresBeforeBackoff) {
    const int64_t wait = BackoffSeconds(failures);
    account.set_retry_after_unix(now + wait);
    absl::StrAppend(&detail, "; ", failures, " in a row, backing off ", wait,
                    " s");
  }
  const std::string name = account.name();
  absl::Status logged =
      CommitWith(account, v1::SIGN_IN_FAILED, std::move(detail), name);
  crypto::WipeString(*account.mutable_totp_secret());
  return logged;
}

absl::StatusOr<v1::SignInResponse> Accounts::SignIn(
    const std::string& name, const std::string& password,
    const std::string& totp_code) {
  const absl::Status wrong = absl::UnauthenticatedError(kWrongCredentials);
  if (name.size() > limits::kMaxAccountNameBytes ||
      password.size() > limits::kMaxPasswordBytes ||
      totp_code.size() > limits::kMaxTotpCodeBytes) {
    return wrong;
  }
  absl::MutexLock lock(&mu_);
  std::optional<v1::StoredAccount> account;
  if (IsValidAccountName(name)) {
    HAVEN_ASSIGN_OR_RETURN(account, Load(name));
  }
  if (!account.has_value()) {
    // As long as a real check; not logged (see the class comment).
    (void)crypto::VerifyPassword(dummy_hash_, password);
    return wrong;
  }
  const int64_t now = options_.clock->NowUnix();
  switch (account->status()) {
    case v1::ACCOUNT_STATUS_ACTIVE:
      break;
    case v1::ACCOUNT_STATUS_DISABLED:
      HAVEN_RETURN_IF_ERROR(LogRefused(name, "disabled"));
      return absl::FailedPreconditionError(
          "this account is disabled: ask an admin");
    case v1::ACCOUNT_STATUS_LOCKED:
      HAVEN_RETURN_IF_ERROR(LogRefused(name, "locked"));
      return absl::FailedPreconditionError(
          "this account is locked after too many failed sign-ins: an admin "
          "must reset it");
    default:
      HAVEN_RETURN_IF_ERROR(LogRefused(name, "not enrolled"));
      return absl::FailedPreconditionError(
          "this account has not finished enrolment: use the enrolment code "
          "an admin gave you");
  }
  if (now < account->retry_after_unix()) {
    HAVEN_RETURN_IF_ERROR(LogRefused(name, "backing off"));
    return absl::ResourceExhaustedError(
        absl::StrCat("too many failed sign-ins for this account: try again in ",
                     account->retry_after_unix() - now, " seconds"));
  }
  // Both checks run, whichever fails.
  const bool password_ok =
      crypto::VerifyPassword(account->password_hash(), password);
  const std::optional<uint64_t> step = crypto::MatchTotp(
      SecretOf(*account), totp_code, now, account->last_totp_step());
  if (!password_ok || !step.has_value()) {
    HAVEN_RETURN_IF_ERROR(CountFailure(*std::move(account), now));
    return wrong;
  }
  account->set_failed_sign_ins(0);
  account->set_retry_after_unix(0);
  account->set_last_totp_step(*step);
  account->set_last_sign_in_unix(now);
  HAVEN_ASSIGN_OR_RETURN(SessionTable::Started started,
                         options_.sessions->Start(name, account->role()));
  absl::Status logged =
      CommitWith(*account, v1::SIGN_IN, "session began", name);
  crypto::WipeString(*account->mutable_totp_secret());
  if (!logged.ok()) {
    options_.sessions->End(crypto::Sha256(started.token));
    return logged;
  }
  v1::SignInResponse response;
  response.set_session_token(std::move(started.token));
  response.set_name(name);
  response.set_role(account->role());
  response.set_idle_expires_unix(started.session.idle_expires_unix);
  response.set_absolute_expires_unix(started.session.absolute_expires_unix);
  return response;
}

absl::Status Accounts::SignOut(const Principal& who) {
  if (who.session_sha256.empty()) {
    return absl::FailedPreconditionError(
        "this call was made with a configured token, which has no session to "
        "end");
  }
  options_.sessions->End(who.session_sha256);
  v1::AuditEntry entry;
  entry.set_kind(v1::SIGN_OUT);
  entry.set_detail("session ended");
  return options_.audit->Record(std::move(entry), who.name, "").status();
}

}  // namespace haven::server::auth
