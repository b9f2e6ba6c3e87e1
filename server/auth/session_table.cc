#include "server/auth/session_table.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "haven/base/limits.h"
#include "server/crypto/digest.h"
#include "server/crypto/key_derivation.h"

namespace haven::server::auth {

absl::StatusOr<SessionTable::Started> SessionTable::Start(
    const std::string& name, haven::v1::Role role) {
  const int64_t now = options_.clock->NowUnix();
  Started started;
  started.token = absl::BytesToHexString(crypto::RandomBytes(32));
  started.session.name = name;
  started.session.role = role;
  started.session.absolute_expires_unix = now + options_.max_seconds;
  started.session.idle_expires_unix = std::min(
      now + options_.idle_seconds, started.session.absolute_expires_unix);
  absl::MutexLock lock(&mu_);
  if (sessions_.size() >= limits::kMaxSessions) {
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (Expired(it->second, now)) {
        sessions_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  if (sessions_.size() >= limits::kMaxSessions) {
    return absl::ResourceExhaustedError(
        "the node holds as many sessions as it can; try again later");
  }
  sessions_[crypto::Sha256(started.token)] = started.session;
  return started;
}

std::optional<SessionTable::Session> SessionTable::Touch(
    absl::string_view token_sha256) {
  const int64_t now = options_.clock->NowUnix();
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(token_sha256);
  if (it == sessions_.end()) return std::nullopt;
  if (Expired(it->second, now)) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.idle_expires_unix =
      std::min(now + options_.idle_seconds, it->second.absolute_expires_unix);
  return it->second;
}

bool SessionTable::End(absl::string_view token_sha256) {
  absl::MutexLock lock(&mu_);
  return sessions_.erase(token_sha256) > 0;
}

int SessionTable::EndAllFor(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  int ended = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.name == name) {
      sessions_.erase(it++);
      ++ended;
    } else {
      ++it;
    }
  }
  return ended;
}

size_t SessionTable::size() const {
  absl::MutexLock lock(&mu_);
  return sessions_.size();
}

}  // namespace haven::server::auth
