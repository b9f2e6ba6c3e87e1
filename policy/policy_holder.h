// PolicyHolder: the node's live policy, replaceable at run time.
//
// Readers take a snapshot (shared_ptr<const CompiledPolicy>) and decide with
// it; a replacement is all-or-nothing: the new policy is parsed, validated
// and compiled first, and only then swapped in, so no request sees half a
// policy and a bad file leaves the old policy in place. Thread-safe.
#ifndef HAVEN_POLICY_POLICY_HOLDER_H_
#define HAVEN_POLICY_POLICY_HOLDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "policy/compiled_policy.h"
#include "policy/loader.h"

namespace haven::policy {

// Where the policy in force came from and since when, for operators
// (`havenctl policy show`).
struct PolicyOrigin {
  std::string source;  // e.g. "policy_file /etc/haven/policy.textproto"
  int64_t since_unix = 0;
};

class PolicyHolder {
 public:
  // Starts with `initial` (may be null: every request is then denied by the
  // caller, which must treat a null snapshot as "no policy").
  explicit PolicyHolder(std::shared_ptr<const CompiledPolicy> initial = nullptr)
      : current_(std::move(initial)) {}

  // The current policy; never changes under the caller.
  std::shared_ptr<const CompiledPolicy> Get() const {
    absl::MutexLock lock(&mu_);
    return current_;
  }

  // Swaps in an already compiled policy; returns the previous one.
  std::shared_ptr<const CompiledPolicy> Replace(
      std::shared_ptr<const CompiledPolicy> next, PolicyOrigin origin = {}) {
    absl::MutexLock lock(&mu_);
    std::swap(current_, next);
    origin_ = std::move(origin);
    return next;
  }

  // The current policy with its origin, read together.
  std::pair<std::shared_ptr<const CompiledPolicy>, PolicyOrigin> GetWithOrigin()
      const {
    absl::MutexLock lock(&mu_);
    return {current_, origin_};
  }

  // Loads, validates and compiles `content`, then swaps it in. On any error
  // the current policy stays. Returns the new policy.
  absl::StatusOr<std::shared_ptr<const CompiledPolicy>> Load(
      absl::string_view content, PolicyFormat format,
      absl::string_view source) {
    auto loaded = LoadPolicy(content, format, source);
    if (!loaded.ok()) return loaded.status();
    auto compiled = CompiledPolicy::Compile(loaded->policy);
    if (!compiled.ok()) return compiled.status();
    Replace(*compiled);
    return *compiled;
  }

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const CompiledPolicy> current_ ABSL_GUARDED_BY(mu_);
  PolicyOrigin origin_ ABSL_GUARDED_BY(mu_);
};

}  // namespace haven::policy

#endif  // HAVEN_POLICY_POLICY_HOLDER_H_
