// PollingWriter: a server-streaming reactor that sends items as they appear
// in some append-only sequence (the audit log, the revocation notices),
// until the client cancels or its deadline passes.
//
// A worker thread asks `fetch(next, wait)` for the items from position
// `next` on (waiting up to `wait` for new ones), writes them one at a time,
// and finishes with fetch's error if there is one. Fetch may return fewer
// items than there are (a page), and may start past `next` when the
// sequence no longer holds the items in between; the writer asks next for
// the position after the last item it wrote. gRPC's reactor threads never
// block. Deletes itself when the call is done.
#ifndef HAVEN_SERVER_SERVICES_POLLING_WRITER_H_
#define HAVEN_SERVER_SERVICES_POLLING_WRITER_H_

#include <algorithm>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/support/server_callback.h"
#include "haven/base/grpc_status.h"

namespace haven::server::services {

template <typename Response>
class PollingWriter final : public grpc::ServerWriteReactor<Response> {
 public:
  // What one fetch found: `items` at positions first, first + 1, ...
  // (first >= the `next` asked for).
  struct Batch {
    uint64_t first = 0;
    std::vector<Response> items;
  };
  using Fetch =
      std::function<absl::StatusOr<Batch>(uint64_t next, absl::Duration wait)>;

  PollingWriter(uint64_t start, Fetch fetch)
      : next_(start), fetch_(std::move(fetch)) {
    worker_ = std::thread([this] { Run(); });
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    write_pending_ = false;
    if (!ok) stopped_ = true;
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
  }
  void OnDone() override {
    worker_.join();
    delete this;
  }

 private:
  bool Stopped() {
    absl::MutexLock lock(&mu_);
    return stopped_;
  }

  void Run() {
    while (!Stopped()) {
      absl::StatusOr<Batch> batch = fetch_(next_, absl::Milliseconds(200));
      if (!batch.ok()) {
        this->Finish(ToGrpcStatus(batch.status()));
        return;
      }
      if (!batch->items.empty()) next_ = std::max(next_, batch->first);
      for (Response& item : batch->items) {
        current_ = std::move(item);
        {
          absl::MutexLock lock(&mu_);
          if (stopped_) break;
          write_pending_ = true;
        }
        this->StartWrite(&current_);
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](PollingWriter* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
              return !w->write_pending_;
            },
            this));
        if (stopped_) break;
        ++next_;
      }
    }
    this->Finish(grpc::Status::OK);
  }

  uint64_t next_;
  const Fetch fetch_;
  Response current_;
  absl::Mutex mu_;
  bool write_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

// A streaming reactor that only finishes with `status` (a refused call).
template <typename Response>
class RefusedStream final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit RefusedStream(const absl::Status& status) {
    this->Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_POLLING_WRITER_H_
