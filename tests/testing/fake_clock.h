// A clock that tests set by hand, so that expiry, use windows and audit
// timestamps are tested without sleeping. Thread-safe.
#ifndef HAVEN_TESTS_TESTING_FAKE_CLOCK_H_
#define HAVEN_TESTS_TESTING_FAKE_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "haven/base/clock.h"

namespace haven {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_unix = 0) : now_(now_unix) {}
  int64_t NowUnix() const override {
    return now_.load(std::memory_order_acquire);
  }
  void Set(int64_t now_unix) {
    now_.store(now_unix, std::memory_order_release);
  }
  void Advance(int64_t seconds) { now_.fetch_add(seconds); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace haven

#endif  // HAVEN_TESTS_TESTING_FAKE_CLOCK_H_
