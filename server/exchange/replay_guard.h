// ReplayGuard: refuses a peer request whose id was already seen, or whose
// send time is outside a short window around the holder's clock.
//
// Ids are remembered for twice the window, so a replay is refused for as
// long as its timestamp could still be accepted. Memory is bounded by the
// request rate times the window. The holder logs every request id it
// decides, so at start the node gives the guard the ids of the log's
// recent entries (Remember) and a replay across a restart is refused too.
// Thread-safe.
#ifndef HAVEN_SERVER_EXCHANGE_REPLAY_GUARD_H_
#define HAVEN_SERVER_EXCHANGE_REPLAY_GUARD_H_

#include <deque>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace haven::server::exchange {

class ReplayGuard {
 public:
  explicit ReplayGuard(absl::Duration window) : window_(window) {}

  // OK the first time `request_id` is seen with `sent` inside the window of
  // `now`. INVALID_ARGUMENT for an empty id; FAILED_PRECONDITION when the
  // time is outside the window; ALREADY_EXISTS for a replay.
  absl::Status Check(const std::string& request_id, absl::Time sent,
                     absl::Time now);
  // Records `request_id` as seen at `seen` (from the log, at start).
  void Remember(const std::string& request_id, absl::Time seen);
  // How long an id must be remembered: twice the window.
  absl::Duration memory() const { return 2 * window_; }

 private:
  const absl::Duration window_;
  absl::Mutex mu_;
  absl::flat_hash_set<std::string> seen_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<absl::Time, std::string>> by_time_ ABSL_GUARDED_BY(mu_);
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_REPLAY_GUARD_H_
