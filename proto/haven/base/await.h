// Await: the blocking form of a call that reports its result through a
// callback, for callers that may block (tests, admin paths, startup).
//
//   absl::StatusOr<uint64_t> index = haven::Await<absl::StatusOr<uint64_t>>(
//       [&](auto done) { log.AppendAsync(entry, std::move(done)); });
//
// The callback may run on any thread, before or after `start` returns, and
// must run exactly once. The state it writes is shared with it, so the waiter
// may leave while the callback is still returning.
#ifndef HAVEN_BASE_AWAIT_H_
#define HAVEN_BASE_AWAIT_H_

#include <memory>
#include <optional>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"

namespace haven {

template <typename T>
T Await(absl::FunctionRef<void(absl::AnyInvocable<void(T)>)> start) {
  struct State {
    absl::Mutex mu;
    std::optional<T> value ABSL_GUARDED_BY(mu);
  };
  auto state = std::make_shared<State>();
  start([state](T value) {
    absl::MutexLock lock(&state->mu);
    state->value.emplace(std::move(value));
  });
  absl::MutexLock lock(&state->mu);
  state->mu.Await(absl::Condition(
      +[](std::optional<T>* value) { return value->has_value(); },
      &state->value));
  return *std::move(state->value);
}

}  // namespace haven

#endif  // HAVEN_BASE_AWAIT_H_
