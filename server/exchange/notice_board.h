// NoticeBoard: revocation notices this node received from holders, kept in
// memory for local watchers (ExchangeService.WatchNotices). The durable
// record of each notice is its audit entry. Thread-safe.
#ifndef HAVEN_SERVER_EXCHANGE_NOTICE_BOARD_H_
#define HAVEN_SERVER_EXCHANGE_NOTICE_BOARD_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "haven/v1/exchange.pb.h"

namespace haven::server::exchange {

class NoticeBoard {
 public:
  void Publish(const haven::v1::RevocationNotice& notice) {
    absl::MutexLock lock(&mu_);
    notices_.push_back(notice);
  }
  // Notices from position `next` on; waits up to `wait` for one to arrive.
  std::vector<haven::v1::RevocationNotice> Since(size_t next,
                                                 absl::Duration wait) {
    absl::MutexLock lock(&mu_);
    auto has_new = [this, next]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return notices_.size() > next;
    };
    mu_.AwaitWithTimeout(absl::Condition(&has_new), wait);
    if (notices_.size() <= next) return {};
    return {notices_.begin() + static_cast<long>(next), notices_.end()};
  }

 private:
  absl::Mutex mu_;
  std::vector<haven::v1::RevocationNotice> notices_ ABSL_GUARDED_BY(mu_);
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_NOTICE_BOARD_H_
