// Clock: where the policy code and the consent registry get "now".
//
// Time is injected so that tests use a FakeClock instead of sleeping, and so
// that one decision uses one instant throughout. Implementations are
// thread-safe.
#ifndef HAVEN_POLICY_CLOCK_H_
#define HAVEN_POLICY_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace haven::policy {

class Clock {
 public:
  virtual ~Clock() = default;
  // Current time in Unix seconds (UTC).
  virtual int64_t NowUnix() const = 0;
  // Current time in Unix nanoseconds; clocks without a finer reading give
  // the start of the current second.
  virtual int64_t NowUnixNanos() const { return NowUnix() * 1'000'000'000; }
};

// The wall clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  int64_t NowUnix() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t NowUnixNanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // A process-wide instance; never destroyed.
  static const SystemClock* Get() {
    static const SystemClock* clock = new SystemClock();
    return clock;
  }
};

// A clock tests set by hand. Thread-safe.
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

}  // namespace haven::policy

#endif  // HAVEN_POLICY_CLOCK_H_
