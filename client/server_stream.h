// ServerStream: the reading end of one server-streaming call (audit Follow,
// exchange WatchNotices), owning the call's context so that the stream and
// its credentials live and die together.
//
// Thread-compatible: one thread reads; Cancel() may be called from another.
#ifndef HAVEN_CLIENT_SERVER_STREAM_H_
#define HAVEN_CLIENT_SERVER_STREAM_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"
#include "haven/base/grpc_status.h"

namespace haven::client {

template <typename Response>
class ServerStream {
 public:
  // `start` opens the stream on the given context, e.g.
  // [&](grpc::ClientContext* c) { return stub->Follow(c, request); }.
  template <typename Start>
  ServerStream(std::unique_ptr<grpc::ClientContext> context, Start start)
      : context_(std::move(context)), reader_(start(context_.get())) {}

  // The next message; false when the stream ended (then call Finish).
  bool Read(Response* response) { return reader_->Read(response); }

  // Ends the call early; Finish then returns CANCELLED.
  void Cancel() { context_->TryCancel(); }

  // How the stream ended, as an absl status.
  absl::Status Finish() { return FromGrpcStatus(reader_->Finish()); }

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReader<Response>> reader_;
};

}  // namespace haven::client

#endif  // HAVEN_CLIENT_SERVER_STREAM_H_
