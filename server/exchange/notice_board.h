// NoticeBoard: revocation notices this node received from holders, kept in
// memory for local watchers (ExchangeService.WatchNotices).
//
// Only the newest `keep` notices are held, so that a holder sending many
// cannot grow this node's memory without end; each is at most
// kMaxRevocationNoticeBytes (grantee_inbox.h checks). The durable record of
// every notice, dropped or not, is its REVOCATION_NOTICE_RECEIVED audit
// entry, written before the notice is published here.
//
// Every notice published has a position: 0 for the first since the board
// was made, then 1, 2, ... A watcher asks for the notices from the position
// after the last one it saw; if some of those were dropped meanwhile, it
// gets the ones still held and the position of the first, so it can tell
// how many it missed.
//
// Thread-safe.
#ifndef HAVEN_SERVER_EXCHANGE_NOTICE_BOARD_H_
#define HAVEN_SERVER_EXCHANGE_NOTICE_BOARD_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "haven/base/limits.h"
#include "haven/v1/exchange.pb.h"

namespace haven::server::exchange {

class NoticeBoard {
 public:
  // What Since found.
  struct Page {
    // The position of notices[0], or of the next notice to come if there
    // are none. Past the position asked for when notices from there on
    // were dropped: the watcher missed (first - next) notices.
    uint64_t first = 0;
    std::vector<haven::v1::RevocationNotice> notices;
  };

  // Holds the newest `keep` notices (at least one).
  explicit NoticeBoard(size_t keep = limits::kNoticesKept)
      : keep_(std::max<size_t>(keep, 1)) {}

  void Publish(const haven::v1::RevocationNotice& notice) {
    absl::MutexLock lock(&mu_);
    notices_.push_back(notice);
    if (notices_.size() > keep_) {
      notices_.pop_front();
      ++dropped_;
    }
  }

  // The notices held from position `next` on; waits up to `wait` for one
  // to arrive if there is none.
  Page Since(uint64_t next, absl::Duration wait) {
    absl::MutexLock lock(&mu_);
    auto has_new = [this, next]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return End() > next;
    };
    mu_.AwaitWithTimeout(absl::Condition(&has_new), wait);
    Page page;
    page.first = std::max(next, dropped_);
    if (page.first < End()) {
      page.notices.assign(
          notices_.begin() + static_cast<long>(page.first - dropped_),
          notices_.end());
    }
    return page;
  }

 private:
  // The position the next notice will have.
  uint64_t End() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return dropped_ + notices_.size();
  }

  // Constant after construction.
  const size_t keep_;

  absl::Mutex mu_;
  // Protected by mu_: the newest notices, the first at position dropped_.
  std::deque<haven::v1::RevocationNotice> notices_ ABSL_GUARDED_BY(mu_);
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_NOTICE_BOARD_H_
