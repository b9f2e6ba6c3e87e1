#include "server/services/exchange_service.h"

#include <thread>

#include "absl/synchronization/mutex.h"
#include "haven/base/status_macros.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/notice_board.h"
#include "server/exchange/requester.h"

namespace haven::server::services {

absl::Status ExchangeServiceImpl::DoRequestDisclosure(
    const auth::Principal& who,
    const haven::v1::RequestDisclosureRequest& request,
    haven::v1::RequestDisclosureResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(*response,
                         context_.requester->Request(who.name, request));
  return absl::OkStatus();
}

absl::Status ExchangeServiceImpl::DoListHandles(
    const auth::Principal&, const haven::v1::ListHandlesRequest&,
    haven::v1::ListHandlesResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(auto handles, context_.handles->ListReceived());
  for (auto& handle : handles) *response->add_handles() = std::move(handle);
  return absl::OkStatus();
}

namespace {

// Streams every notice received since the node started, then new ones,
// until the client cancels. A worker thread waits on the notice board so
// reactor threads never block.
class NoticeReactor final
    : public grpc::ServerWriteReactor<haven::v1::WatchNoticesResponse> {
 public:
  explicit NoticeReactor(exchange::NoticeBoard* board) : board_(board) {
    worker_ = std::thread([this] { Run(); });
  }
  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    pending_ = false;
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
    size_t next = 0;
    while (!Stopped()) {
      for (auto& notice : board_->Since(next, absl::Milliseconds(200))) {
        response_.Clear();
        *response_.mutable_notice() = std::move(notice);
        {
          absl::MutexLock lock(&mu_);
          if (stopped_) break;
          pending_ = true;
        }
        StartWrite(&response_);
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](NoticeReactor* r)
                 ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) { return !r->pending_; },
            this));
        if (stopped_) break;
        ++next;
      }
    }
    Finish(grpc::Status::OK);
  }

  exchange::NoticeBoard* const board_;
  haven::v1::WatchNoticesResponse response_;
  absl::Mutex mu_;
  bool pending_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

class RefusedWatch final
    : public grpc::ServerWriteReactor<haven::v1::WatchNoticesResponse> {
 public:
  explicit RefusedWatch(const absl::Status& status) {
    Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<haven::v1::WatchNoticesResponse>*
ExchangeServiceImpl::WatchNotices(grpc::CallbackServerContext* call,
                                  const haven::v1::WatchNoticesRequest*) {
  absl::StatusOr<auth::Principal> principal =
      context_.authenticator->Require(*call, {haven::v1::CASEWORKER});
  if (!principal.ok()) return new RefusedWatch(principal.status());
  return new NoticeReactor(context_.notices);
}

}  // namespace haven::server::services
