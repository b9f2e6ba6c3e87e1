// ThreadSanitizer build only (HAVEN_TSAN, linked into every executable):
// tells TSan about Abseil's synchronization.
//
// Debian's libabsl_synchronization is not built with -fsanitize=thread, so
// TSan does not see absl::Mutex, CondVar, Notification, BlockingCounter or
// Barrier synchronize anything, and every access guarded by them looks like
// a race. The executable defines the functions it calls from that library;
// the dynamic linker prefers those definitions (for calls from Haven, and
// from gRPC), and each one calls the library's own definition (dlsym
// RTLD_NEXT) with a release before the call that may give up a lock or
// signal, and an acquire after the call that takes one or is woken.
// Nothing else changes: the real Abseil code does the work.

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/synchronization/barrier.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

extern "C" void AnnotateIgnoreReadsBegin(const char* file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char* file, int line);

namespace {

template <typename F>
F Real(const char* mangled) {
  void* f = dlsym(RTLD_NEXT, mangled);
  if (f == nullptr) {
    std::fprintf(stderr, "tsan_absl_sync: %s not found\n", mangled);
    std::abort();
  }
  return reinterpret_cast<F>(f);
}

void Release(const void* p) { __tsan_release(const_cast<void*>(p)); }
void Acquire(const void* p) { __tsan_acquire(const_cast<void*>(p)); }

// Abseil evaluates the Conditions of Await, LockWhen and their waiters
// inside its lock and unlock paths, with the mutex held but at points the
// release and acquire above cannot mark; the reads of those evaluations are
// not checked (a Condition reads state guarded by that mutex).
struct IgnoreReads {
  IgnoreReads() { AnnotateIgnoreReadsBegin(__FILE__, __LINE__); }
  ~IgnoreReads() { AnnotateIgnoreReadsEnd(__FILE__, __LINE__); }
};

template <typename F, typename... Args>
auto Unchecked(F f, Args&&... args) {
  IgnoreReads ignore;
  return f(std::forward<Args>(args)...);
}

#define HAVEN_ABSL(name) "_ZN4absl7debian3" name

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  static auto real = Real<void (*)(Mutex*)>(HAVEN_ABSL("5Mutex4LockEv"));
  Unchecked(real, this);
  Acquire(this);
}

void Mutex::ReaderLock() {
  static auto real = Real<void (*)(Mutex*)>(HAVEN_ABSL("5Mutex10ReaderLockEv"));
  Unchecked(real, this);
  Acquire(this);
}

bool Mutex::TryLock() {
  static auto real = Real<bool (*)(Mutex*)>(HAVEN_ABSL("5Mutex7TryLockEv"));
  bool locked = Unchecked(real, this);
  if (locked) Acquire(this);
  return locked;
}

bool Mutex::ReaderTryLock() {
  static auto real =
      Real<bool (*)(Mutex*)>(HAVEN_ABSL("5Mutex13ReaderTryLockEv"));
  bool locked = Unchecked(real, this);
  if (locked) Acquire(this);
  return locked;
}

void Mutex::Unlock() {
  static auto real = Real<void (*)(Mutex*)>(HAVEN_ABSL("5Mutex6UnlockEv"));
  Release(this);
  Unchecked(real, this);
}

void Mutex::ReaderUnlock() {
  static auto real =
      Real<void (*)(Mutex*)>(HAVEN_ABSL("5Mutex12ReaderUnlockEv"));
  Release(this);
  Unchecked(real, this);
}

void Mutex::LockWhen(const Condition& cond) {
  static auto real = Real<void (*)(Mutex*, const Condition&)>(
      HAVEN_ABSL("5Mutex8LockWhenERKNS0_9ConditionE"));
  Unchecked(real, this, cond);
  Acquire(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static auto real = Real<void (*)(Mutex*, const Condition&)>(
      HAVEN_ABSL("5Mutex14ReaderLockWhenERKNS0_9ConditionE"));
  Unchecked(real, this, cond);
  Acquire(this);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, absl::Duration)>(
      HAVEN_ABSL("5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE"));
  bool met = Unchecked(real, this, cond, timeout);
  Acquire(this);
  return met;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, absl::Time)>(
      HAVEN_ABSL("5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE"));
  bool met = Unchecked(real, this, cond, deadline);
  Acquire(this);
  return met;
}

void Mutex::Await(const Condition& cond) {
  static auto real = Real<void (*)(Mutex*, const Condition&)>(
      HAVEN_ABSL("5Mutex5AwaitERKNS0_9ConditionE"));
  Release(this);
  Unchecked(real, this, cond);
  Acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, absl::Duration)>(
      HAVEN_ABSL("5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE"));
  Release(this);
  bool met = Unchecked(real, this, cond, timeout);
  Acquire(this);
  return met;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, absl::Time)>(
      HAVEN_ABSL("5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE"));
  Release(this);
  bool met = Unchecked(real, this, cond, deadline);
  Acquire(this);
  return met;
}

void CondVar::Wait(Mutex* mu) {
  static auto real = Real<void (*)(CondVar*, Mutex*)>(
      HAVEN_ABSL("7CondVar4WaitEPNS0_5MutexE"));
  Release(mu);
  Unchecked(real, this, mu);
  Acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  static auto real = Real<bool (*)(CondVar*, Mutex*, absl::Duration)>(
      HAVEN_ABSL("7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE"));
  Release(mu);
  bool timed_out = Unchecked(real, this, mu, timeout);
  Acquire(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  static auto real = Real<bool (*)(CondVar*, Mutex*, absl::Time)>(
      HAVEN_ABSL("7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE"));
  Release(mu);
  bool timed_out = Unchecked(real, this, mu, deadline);
  Acquire(mu);
  return timed_out;
}

void Notification::Notify() {
  static auto real =
      Real<void (*)(Notification*)>(HAVEN_ABSL("12Notification6NotifyEv"));
  Release(this);
  Unchecked(real, this);
}

void Notification::WaitForNotification() const {
  static auto real = Real<void (*)(const Notification*)>(
      "_ZNK4absl7debian312Notification19WaitForNotificationEv");
  Unchecked(real, this);
  Acquire(this);
}

bool Notification::WaitForNotificationWithTimeout(
    absl::Duration timeout) const {
  static auto real = Real<bool (*)(const Notification*, absl::Duration)>(
      "_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  bool notified = Unchecked(real, this, timeout);
  if (notified) Acquire(this);
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(absl::Time deadline) const {
  static auto real = Real<bool (*)(const Notification*, absl::Time)>(
      "_ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  bool notified = Unchecked(real, this, deadline);
  if (notified) Acquire(this);
  return notified;
}

bool BlockingCounter::DecrementCount() {
  static auto real = Real<bool (*)(BlockingCounter*)>(
      HAVEN_ABSL("15BlockingCounter14DecrementCountEv"));
  Release(this);
  return Unchecked(real, this);
}

void BlockingCounter::Wait() {
  static auto real =
      Real<void (*)(BlockingCounter*)>(HAVEN_ABSL("15BlockingCounter4WaitEv"));
  Unchecked(real, this);
  Acquire(this);
}

bool Barrier::Block() {
  static auto real = Real<bool (*)(Barrier*)>(HAVEN_ABSL("7Barrier5BlockEv"));
  Release(this);
  bool last = Unchecked(real, this);
  Acquire(this);
  return last;
}

ABSL_NAMESPACE_END
}  // namespace absl
