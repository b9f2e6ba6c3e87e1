#include "server/exchange/peer_client.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "haven/base/grpc_status.h"
#include "haven/base/status_macros.h"

namespace haven::server::exchange {
namespace {

// The peer's status, its message prefixed with which peer said it.
absl::Status FromGrpc(const grpc::Status& grpc_status, const std::string& peer) {
  absl::Status status = FromGrpcStatus(grpc_status);
  if (status.ok()) return status;
  // A peer's own refusal keeps its code and message; transport failures
  // say which peer could not be reached.
  if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) {
    return absl::UnavailableError(
        absl::StrCat("peer '", peer, "' unreachable: ", status.message()));
  }
  return absl::Status(status.code(),
                      absl::StrCat("peer '", peer, "': ", status.message()));
}

}  // namespace

haven::v1::PeerService::Stub* PeerClient::StubFor(
    const haven::v1::Member& member) {
  absl::MutexLock lock(&mu_);
  auto& slot = stubs_[member.agency_id()];
  if (slot.second == nullptr || slot.first != member.endpoint()) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = tls_.ca_pem;
    options.pem_cert_chain = tls_.cert_pem;
    options.pem_private_key = tls_.key_pem;
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride(member.agency_id());
    slot.first = member.endpoint();
    slot.second = haven::v1::PeerService::NewStub(grpc::CreateCustomChannel(
        member.endpoint(), grpc::SslCredentials(options), args));
  }
  return slot.second.get();
}

std::unique_ptr<grpc::ClientContext> PeerClient::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  return context;
}

void PeerClient::DiscloseAsync(const haven::v1::Member& holder,
                               haven::v1::DiscloseRequest request,
                               DiscloseDone done) {
  // The callback API lets gRPC's own threads drive the call, so no thread
  // waits for the holder. The call's state lives until its callback.
  struct Call {
    std::unique_ptr<grpc::ClientContext> context;
    haven::v1::DiscloseRequest request;
    haven::v1::DiscloseResponse response;
    std::string holder;
    DiscloseDone done;
  };
  auto* call = new Call;
  call->context = NewContext();
  call->request = std::move(request);
  call->holder = holder.agency_id();
  call->done = std::move(done);
  StubFor(holder)->async()->Disclose(
      call->context.get(), &call->request, &call->response,
      [call](const grpc::Status& s) {
        std::unique_ptr<Call> owned(call);
        absl::Status status = FromGrpc(s, owned->holder);
        if (!status.ok()) {
          owned->done(status);
        } else {
          owned->done(std::move(owned->response));
        }
      });
}

template <typename Request, typename Response>
absl::StatusOr<Response> PeerClient::Call(
    const haven::v1::Member& peer,
    grpc::Status (haven::v1::PeerService::Stub::*method)(
        grpc::ClientContext*, const Request&, Response*),
    const Request& request) {
  Response response;
  auto context = NewContext();
  HAVEN_RETURN_IF_ERROR(FromGrpc(
      (StubFor(peer)->*method)(context.get(), request, &response),
      peer.agency_id()));
  return response;
}

absl::Status PeerClient::OfferHandle(
    const haven::v1::Member& grantee,
    const haven::v1::OfferHandleRequest& request) {
  return Call(grantee, &haven::v1::PeerService::Stub::OfferHandle, request)
      .status();
}

absl::Status PeerClient::NotifyRevocation(
    const haven::v1::Member& grantee,
    const haven::v1::NotifyRevocationRequest& request) {
  return Call(grantee, &haven::v1::PeerService::Stub::NotifyRevocation,
              request)
      .status();
}

absl::StatusOr<haven::v1::ExchangeCheckpointResponse>
PeerClient::ExchangeCheckpoint(
    const haven::v1::Member& peer,
    const haven::v1::ExchangeCheckpointRequest& request) {
  return Call(peer, &haven::v1::PeerService::Stub::ExchangeCheckpoint,
              request);
}

}  // namespace haven::server::exchange
