// Check of tsan_absl_sync.cc (ThreadSanitizer build only): two threads
// write one counter under an absl::Mutex and another without. TSan must
// report the second and not the first (the CTest test tsan_absl_sync_check
// matches the report).
#include <thread>

#include "absl/synchronization/mutex.h"

namespace {
absl::Mutex mu;
int guarded ABSL_GUARDED_BY(mu) = 0;
int unguarded = 0;

void Bump() {
  {
    absl::MutexLock lock(&mu);
    ++guarded;
  }
  ++unguarded;
}
}  // namespace

int main() {
  std::thread other(Bump);
  Bump();
  other.join();
  absl::MutexLock lock(&mu);
  return guarded == 2 ? 0 : 1;
}
