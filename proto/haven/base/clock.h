// Clock: where every part of Haven gets "now".
//
// Time is injected (never read from the system in logic) so that tests set
// it by hand instead of sleeping, and so that one decision or one audit
// entry uses one instant throughout. Tests use tests/testing/fake_clock.h.
// Implementations are thread-safe.
#ifndef HAVEN_BASE_CLOCK_H_
#define HAVEN_BASE_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace haven {

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

}  // namespace haven

#endif  // HAVEN_BASE_CLOCK_H_
