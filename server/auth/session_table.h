// SessionTable: the personal sessions of a node, in memory only.
//
// A session begins at sign-in and is named by a random 256-bit token that
// the person's client sends as a bearer token. The table keeps only the
// token's SHA-256, never the token, so a memory dump shows no usable
// token; a restart ends every session. A session ends when it has been
// idle for `idle` (each authenticated call moves that on), at `max` after
// it began whatever happens, at sign-out, or when an admin disables or
// resets the account. At most limits::kMaxSessions are held.
//
// Thread-safe.
#ifndef HAVEN_SERVER_AUTH_SESSION_TABLE_H_
#define HAVEN_SERVER_AUTH_SESSION_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "haven/base/clock.h"
#include "haven/v1/common.pb.h"

namespace haven::server::auth {

class SessionTable {
 public:
  struct Options {
    // Borrowed; must outlive the table.
    const Clock* clock = nullptr;
    int64_t idle_seconds = 900;
    int64_t max_seconds = 28800;
  };
  struct Session {
    std::string name;
    haven::v1::Role role = haven::v1::ROLE_UNSPECIFIED;
    int64_t idle_expires_unix = 0;
    int64_t absolute_expires_unix = 0;
  };
  struct Started {
    // Shown to the person once; not kept.
    std::string token;
    Session session;
  };

  explicit SessionTable(Options options) : options_(options) {}

  // A new session for `name`. RESOURCE_EXHAUSTED when kMaxSessions live
  // sessions are held.
  absl::StatusOr<Started> Start(const std::string& name, haven::v1::Role role);

  // The live session whose token has SHA-256 `token_sha256` (32 raw
  // bytes), its idle expiry moved on; nullopt if there is none (never
  // began, ended or expired: an expired session is dropped here).
  std::optional<Session> Touch(absl::string_view token_sha256);

  // Ends one session; false if it was not live.
  bool End(absl::string_view token_sha256);

  // Ends every session of `name`; returns how many.
  int EndAllFor(absl::string_view name);

  // Live sessions (expired ones not yet dropped are counted).
  size_t size() const;

 private:
  bool Expired(const Session& session, int64_t now) const {
    return now >= session.idle_expires_unix ||
           now >= session.absolute_expires_unix;
  }

  // Constant after construction.
  const Options options_;

  mutable absl::Mutex mu_;
  // By the token's SHA-256.
  absl::flat_hash_map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace haven::server::auth

#endif  // HAVEN_SERVER_AUTH_SESSION_TABLE_H_
