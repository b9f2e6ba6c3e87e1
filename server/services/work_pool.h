// WorkPool: a fixed set of threads that run RPC bodies off gRPC's reactor
// threads, so a synced write or a peer call never blocks the event loop.
//
// Thread-safe. The destructor finishes queued work, then joins.
#ifndef HAVEN_SERVER_SERVICES_WORK_POOL_H_
#define HAVEN_SERVER_SERVICES_WORK_POOL_H_

#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace haven::server::services {

class WorkPool {
 public:
  explicit WorkPool(int threads);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  void Schedule(absl::AnyInvocable<void()> work);

 private:
  void Run();

  absl::Mutex mu_;
  // Signalled once per job so one idle thread wakes, not all of them.
  absl::CondVar work_ready_;
  std::deque<absl::AnyInvocable<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_WORK_POOL_H_
