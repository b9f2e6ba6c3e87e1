#include "server/exchange/replay_guard.h"

#include "absl/strings/str_cat.h"

namespace haven::server::exchange {

absl::Status ReplayGuard::Check(const std::string& request_id, absl::Time sent,
                                absl::Time now) {
  if (request_id.empty() || request_id.size() > 128) {
    return absl::InvalidArgumentError("request id must be 1..128 characters");
  }
  if (sent < now - window_ || sent > now + window_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "request time is outside the accepted window of ",
        absl::FormatDuration(window_), " (check the requester's clock)"));
  }
  absl::MutexLock lock(&mu_);
  // Forget ids old enough that their timestamps are refused anyway.
  while (!by_time_.empty() && by_time_.front().first < now - 2 * window_) {
    seen_.erase(by_time_.front().second);
    by_time_.pop_front();
  }
  if (!seen_.insert(request_id).second) {
    return absl::AlreadyExistsError("request id already used (replay refused)");
  }
  by_time_.emplace_back(now, request_id);
  return absl::OkStatus();
}

void ReplayGuard::Remember(const std::string& request_id, absl::Time seen) {
  if (request_id.empty()) return;
  absl::MutexLock lock(&mu_);
  if (seen_.insert(request_id).second) by_time_.emplace_back(seen, request_id);
}

}  // namespace haven::server::exchange
