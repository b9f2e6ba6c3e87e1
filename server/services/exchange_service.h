// ExchangeService: a caseworker asks a peer agency, through this node, for
// a subject's data; lists the handles peers issued to this agency; watches
// revocation notices.
#ifndef HAVEN_SERVER_SERVICES_EXCHANGE_SERVICE_H_
#define HAVEN_SERVER_SERVICES_EXCHANGE_SERVICE_H_

#include "haven/v1/exchange.grpc.pb.h"
#include "server/services/rpc_macros.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/notice_board.h"
#include "server/exchange/requester.h"
#include "server/services/rpc_env.h"

namespace haven::server::services {

class ExchangeServiceImpl final
    : public haven::v1::ExchangeService::CallbackService {
 public:
  // The modules it adapts; borrowed, they outlive the service.
  struct Deps {
    exchange::Requester* requester = nullptr;
    exchange::HandleStore* handles = nullptr;
    exchange::NoticeBoard* notices = nullptr;
  };
  ExchangeServiceImpl(const RpcEnv& env, Deps deps) : env_(env), deps_(deps) {}

  HAVEN_ASYNC_UNARY_RPC(RequestDisclosure, RequestDisclosureRequest,
                        RequestDisclosureResponse, haven::v1::CASEWORKER);
  HAVEN_UNARY_RPC(ListHandles, ListHandlesRequest, ListHandlesResponse,
                  haven::v1::CASEWORKER);

  grpc::ServerWriteReactor<haven::v1::WatchNoticesResponse>* WatchNotices(
      grpc::CallbackServerContext* call,
      const haven::v1::WatchNoticesRequest* request) override;

 private:
  const RpcEnv& env_;
  const Deps deps_;
};

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_EXCHANGE_SERVICE_H_
