// Accounts: the people who sign in to a node (auth.proto), their
// enrolment, sign-in with backoff and lock, and the admin's changes.
//
// What is stored: one StoredAccount per person (state.proto), sealed with
// the node's StateSealer under kMeta "account/<name>", so the TOTP secret
// is encrypted under a key derived from the master key and bound to its
// place; the password only as an Argon2id string (crypto/password.h);
// the enrolment code only as its SHA-256 (a random 80-bit code). Every
// change that matters is committed in one write with its audit entry
// (ACCOUNT_ADDED, ACCOUNT_DISABLED, ACCOUNT_RESET, ACCOUNT_ENROLLED,
// SIGN_IN, SIGN_IN_FAILED, SIGN_OUT), whose principal is the person (or
// the admin, for an admin's change) and whose detail names the outcome,
// never a password, code or token. Sessions live in a SessionTable.
//
// Sign-in: a wrong name, password or TOTP code gets the same
// UNAUTHENTICATED message, and an unknown name still costs an Argon2id
// verification, so neither the answer nor its time tells which was wrong.
// Attempts on unknown names are not logged (what was typed might be a
// password in the wrong box). For a known account, each failure counts;
// from the limits::kSignInFailuresBeforeBackoff-th consecutive one the
// account backs off (RESOURCE_EXHAUSTED saying how long to wait, doubling
// up to a cap) and at limits::kMaxFailedSignIns it is LOCKED until an
// admin resets it. That lock is a denial of service anyone who knows a
// name can cause; it is the price of bounding online guessing, and an
// admin lifts it in one command.
//
// Thread-safe. Every operation that reads and writes an account runs
// under one mutex, Argon2id included, so sign-ins are serialised: counts
// cannot race, and at most one Argon2id computation's memory is in use.
#ifndef HAVEN_SERVER_AUTH_ACCOUNTS_H_
#define HAVEN_SERVER_AUTH_ACCOUNTS_H_

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "haven/base/clock.h"
#include "haven/v1/auth.pb.h"
#include "haven/v1/state.pb.h"
#include "server/audit/audit_recorder.h"
#include "server/auth/authenticator.h"
#include "server/auth/session_table.h"
#include "server/crypto/password.h"
#include "server/crypto/state_sealer.h"
#include "server/storage/storage.h"

namespace haven::server::auth {

// Whether `name` may name an account: 1 to limits::kMaxAccountNameBytes of
// [a-z0-9._-], the first a letter or digit.
bool IsValidAccountName(absl::string_view name);

class Accounts {
 public:
  struct Options {
    // Borrowed; must outlive the accounts.
    storage::Storage* storage = nullptr;
    const crypto::StateSealer* sealer = nullptr;
    const audit::AuditRecorder* audit = nullptr;
    const Clock* clock = nullptr;
    SessionTable* sessions = nullptr;
    crypto::PasswordCost password_cost = crypto::PasswordCost::Production();
    // Names of the configured principals: no account may take one.
    std::set<std::string> reserved_names;
    // The otpauth issuer shown in authenticator apps (the agency id).
    std::string issuer;
  };

  // INVALID_ARGUMENT if a borrowed pointer is missing.
  static absl::StatusOr<std::unique_ptr<Accounts>> Create(Options options);

  struct Enrolment {
    haven::v1::Account account;
    // For the person, handed over in person; valid until `expires_unix`.
    std::string code;
    int64_t expires_unix = 0;
  };

  // Admin changes; `admin` is logged as the principal. INVALID_ARGUMENT for
  // a bad name, role or reason; ALREADY_EXISTS for a name taken by an
  // account or a configured principal; NOT_FOUND for an unknown account.
  absl::StatusOr<Enrolment> Add(const std::string& admin,
                                const std::string& name, haven::v1::Role role);
  // Ends the person's sessions at once.
  absl::StatusOr<haven::v1::Account> Disable(const std::string& admin,
                                             const std::string& name,
                                             const std::string& reason);
  // Back to ACCOUNT_STATUS_ENROLLING with a new code; password and TOTP secret
  // forgotten; sessions ended.
  absl::StatusOr<Enrolment> Reset(const std::string& admin,
                                  const std::string& name,
                                  const std::string& reason);
  // Every account, by name. DATA_LOSS if one does not open.
  absl::StatusOr<std::vector<haven::v1::Account>> List() const;

  // Enrolment, step 1: checks the code, sets the password, makes a new
  // TOTP secret (each call a new one) and returns it for the app.
  // UNAUTHENTICATED for a wrong name or code or an expired code (one
  // message); INVALID_ARGUMENT for a password out of bounds.
  absl::StatusOr<haven::v1::TotpEnrolment> BeginEnrolment(
      const std::string& name, const std::string& code,
      const std::string& password);
  // Enrolment, step 2: the TOTP code proves the app holds the secret; the
  // account becomes ACCOUNT_STATUS_ACTIVE (logged, ACCOUNT_ENROLLED).
  absl::StatusOr<haven::v1::Account> ConfirmEnrolment(
      const std::string& name, const std::string& code,
      const std::string& totp_code);

  // See the class comment. On success the session has begun and is
  // logged (SIGN_IN).
  absl::StatusOr<haven::v1::SignInResponse> SignIn(
      const std::string& name, const std::string& password,
      const std::string& totp_code);
  // Ends the caller's session (logged, SIGN_OUT). FAILED_PRECONDITION for
  // a configured token, which has no session.
  absl::Status SignOut(const Principal& who);

 private:
  explicit Accounts(Options options);

  // The stored account, or nullopt.
  absl::StatusOr<std::optional<haven::v1::StoredAccount>> Load(
      const std::string& name) const;
  // `account` sealed for its place, as a write.
  void Put(const haven::v1::StoredAccount& account,
           storage::WriteBatch* batch) const;
  // Commits `account` with an entry of `kind` and `detail` for
  // `principal`.
  absl::Status CommitWith(const haven::v1::StoredAccount& account,
                          haven::v1::EntryKind kind, std::string detail,
                          const std::string& principal) const;
  // Loads an account that must exist (NOT_FOUND otherwise).
  absl::StatusOr<haven::v1::StoredAccount> LoadExisting(
      const std::string& name) const;
  // Loads the ENROLLING account whose code is `code`, or the one
  // UNAUTHENTICATED answer.
  absl::StatusOr<haven::v1::StoredAccount> LoadEnrolling(
      const std::string& name, const std::string& code) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A new enrolment code into `account`.
  Enrolment NewEnrolment(haven::v1::StoredAccount* account) const;
  // A failed sign-in of `account`: counted, backoff or lock, logged.
  absl::Status CountFailure(haven::v1::StoredAccount account, int64_t now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Logs a refused attempt that is not counted (disabled, locked...).
  absl::Status LogRefused(const std::string& name,
                          absl::string_view detail) const;

  // Constant after construction.
  const Options options_;
  // An Argon2id string of a random password, verified against when the
  // name is unknown, so that the answer takes as long.
  std::string dummy_hash_;

  // Held for every read-modify-write of an account (see the class
  // comment).
  mutable absl::Mutex mu_;
};

// An account as the API shows it (no secret).
haven::v1::Account PublicView(const haven::v1::StoredAccount& stored);

}  // namespace haven::server::auth

#endif  // HAVEN_SERVER_AUTH_ACCOUNTS_H_
