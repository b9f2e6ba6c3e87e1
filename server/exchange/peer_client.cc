#include "server/exchange/peer_client.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "haven/base/grpc_status.h"
#include "haven/base/status_macros.h"
#include "server/federation/peer_identity.h"

namespace haven::server::exchange {
namespace {

// The peer's status, its message prefixed with which peer said it.
absl::Status FromGrpc(const grpc::Status& grpc_status,
                      const std::string& peer) {
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

// Accepts a peer's certificate (already chained to the task-force CA by
// gRPC) only if it names the agency called and is a certificate the
// manifest lists for it (cert_sha256, or next_cert_sha256 during a rotation
// window): the CA could issue another with the same name, and the
// manifest's fingerprint is the second check, as on incoming calls. It runs
// in the TLS handshake, so nothing is sent to a peer that fails it.
class PinnedCertificateVerifier final
    : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit PinnedCertificateVerifier(haven::v1::Member member)
      : agency_id_(member.agency_id()), member_(std::move(member)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)>,
              grpc::Status* sync_status) override {
    *sync_status = Check(*request);
    return true;  // decided synchronously
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {
  }

 private:
  grpc::Status Check(
      const grpc::experimental::TlsCustomVerificationCheckRequest& request)
      const {
    bool named = std::string(request.common_name().data(),
                             request.common_name().size()) == agency_id_;
    for (const grpc::string_ref& name : request.dns_names()) {
      named |= std::string(name.data(), name.size()) == agency_id_;
    }
    if (!named) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          absl::StrCat("the peer's certificate does not name '",
                                       agency_id_, "'"));
    }
    auto fingerprint = federation::CertificateFingerprint(
        std::string(request.peer_cert().data(), request.peer_cert().size()));
    if (!fingerprint.ok() ||
        !federation::IsListedCertificate(member_, *fingerprint)) {
      return grpc::Status(
          grpc::StatusCode::UNAUTHENTICATED,
          absl::StrCat("the certificate '", agency_id_,
                       "' presented is not the one the manifest lists for it "
                       "(cert_sha256); nothing was sent"));
    }
    return grpc::Status::OK;
  }

  const std::string agency_id_;
  const haven::v1::Member member_;
};

}  // namespace

std::shared_ptr<haven::v1::PeerService::Stub> PeerClient::StubFor(
    const haven::v1::Member& member) {
  absl::MutexLock lock(&mu_);
  auto& slot = stubs_[member.agency_id()];
  // A new endpoint or new pinned certificates in the manifest: a new
  // channel.
  const std::string pinned =
      absl::StrCat(member.endpoint(), " ", member.cert_sha256(), " ",
                   member.next_cert_sha256());
  if (slot.second == nullptr || slot.first != pinned) {
    grpc::experimental::TlsChannelCredentialsOptions options;
    options.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
            tls_.ca_pem, std::vector<grpc::experimental::IdentityKeyCertPair>{
                             {tls_.key_pem, tls_.cert_pem}}));
    options.watch_root_certs();
    options.watch_identity_key_cert_pairs();
    options.set_verify_server_certs(true);
    options.set_certificate_verifier(
        grpc::experimental::ExternalCertificateVerifier::Create<
            PinnedCertificateVerifier>(member));
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride(member.agency_id());
    slot.first = pinned;
    slot.second = haven::v1::PeerService::NewStub(grpc::CreateCustomChannel(
        member.endpoint(), grpc::experimental::TlsCredentials(options), args));
  }
  return slot.second;
}

void PeerClient::SetTls(Tls tls) {
  absl::MutexLock lock(&mu_);
  tls_ = std::move(tls);
  // Calls in flight keep their channel (their context holds it); the next
  // call to each peer makes a new one, so its handshake shows the new
  // certificate.
  stubs_.clear();
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
  // The stub is held across the call: a concurrent SetTls or manifest
  // change may drop it from the cache meanwhile.
  std::shared_ptr<haven::v1::PeerService::Stub> stub = StubFor(holder);
  stub->async()->Disclose(call->context.get(), &call->request, &call->response,
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
    grpc::Status (haven::v1::PeerService::Stub::*method)(grpc::ClientContext*,
                                                         const Request&,
                                                         Response*),
    const Request& request) {
  Response response;
  auto context = NewContext();
  HAVEN_RETURN_IF_ERROR(
      FromGrpc(((*StubFor(peer)).*method)(context.get(), request, &response),
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
  return Call(grantee, &haven::v1::PeerService::Stub::NotifyRevocation, request)
      .status();
}

absl::StatusOr<haven::v1::ExchangeCheckpointResponse>
PeerClient::ExchangeCheckpoint(
    const haven::v1::Member& peer,
    const haven::v1::ExchangeCheckpointRequest& request) {
  return Call(peer, &haven::v1::PeerService::Stub::ExchangeCheckpoint, request);
}

absl::StatusOr<std::string> PeerClient::GetManifest(
    const haven::v1::Member& peer) {
  HAVEN_ASSIGN_OR_RETURN(haven::v1::GetManifestResponse response,
                         Call(peer, &haven::v1::PeerService::Stub::GetManifest,
                              haven::v1::GetManifestRequest()));
  return std::move(*response.mutable_signed_manifest());
}

}  // namespace haven::server::exchange
