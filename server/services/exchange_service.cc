#include "server/services/exchange_service.h"

#include <algorithm>

#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/notice_board.h"
#include "server/exchange/requester.h"
#include "server/services/polling_writer.h"

namespace haven::server::services {

void ExchangeServiceImpl::DoRequestDisclosure(
    const auth::Principal& who,
    const haven::v1::RequestDisclosureRequest& request,
    haven::v1::RequestDisclosureResponse* response, FinishRpc finish) {
  deps_.requester->RequestAsync(who.name, request,
                               FillThenFinish(response, std::move(finish)));
}

absl::Status ExchangeServiceImpl::DoListHandles(
    const auth::Principal&, const haven::v1::ListHandlesRequest& request,
    haven::v1::ListHandlesResponse* response) {
  if (request.page_token().size() > limits::kMaxPageTokenBytes) {
    return absl::InvalidArgumentError(
        "page_token is not one this node gave out");
  }
  const size_t page_size =
      request.page_size() == 0
          ? limits::kMaxHandlesPerPage
          : std::min<size_t>(request.page_size(), limits::kMaxHandlesPerPage);
  HAVEN_ASSIGN_OR_RETURN(
      exchange::HandleStore::ReceivedPage page,
      deps_.handles->ListReceived(request.page_token(), page_size,
                                     limits::kMaxReadBytes));
  for (auto& handle : page.handles) {
    *response->add_handles() = std::move(handle);
  }
  response->set_next_page_token(std::move(page.next));
  return absl::OkStatus();
}

grpc::ServerWriteReactor<haven::v1::WatchNoticesResponse>*
ExchangeServiceImpl::WatchNotices(grpc::CallbackServerContext* call,
                                  const haven::v1::WatchNoticesRequest*) {
  absl::StatusOr<auth::Principal> principal =
      Authenticate(call, env_, {haven::v1::CASEWORKER});
  if (!principal.ok()) {
    return new RefusedStream<haven::v1::WatchNoticesResponse>(
        principal.status());
  }
  exchange::NoticeBoard* board = deps_.notices;
  using Writer = PollingWriter<haven::v1::WatchNoticesResponse>;
  // The notices the board still holds, then new ones. Where the board
  // dropped some this watch never got, the next notice says how many.
  return new Writer(
      0,
      [board](uint64_t next,
              absl::Duration wait) -> absl::StatusOr<Writer::Batch> {
        exchange::NoticeBoard::Page page = board->Since(next, wait);
        Writer::Batch batch;
        batch.first = page.first;
        for (auto& notice : page.notices) {
          haven::v1::WatchNoticesResponse& out = batch.items.emplace_back();
          out.set_position(page.first + batch.items.size() - 1);
          *out.mutable_notice() = std::move(notice);
        }
        if (!batch.items.empty()) batch.items[0].set_missed(page.first - next);
        return batch;
      });
}

}  // namespace haven::server::services
