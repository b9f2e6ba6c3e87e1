// PeerClient: this node's mutual-TLS connections to the other members.
//
// Each channel presents this node's certificate, trusts only the task-force
// CA and, in the TLS handshake, accepts only a certificate the manifest
// lists for the member (its name and cert_sha256 or next_cert_sha256): a
// certificate the CA issued to someone else under the same name gets
// nothing. Channels are made on first use and remade when a member's
// endpoint or fingerprints change in the manifest, and when this node
// switches to a new certificate (SetTls). Thread-safe.
#ifndef HAVEN_SERVER_EXCHANGE_PEER_CLIENT_H_
#define HAVEN_SERVER_EXCHANGE_PEER_CLIENT_H_

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "haven/v1/federation.pb.h"
#include "server/exchange/disclosure_transport.h"

namespace haven::server::exchange {

class PeerClient : public DisclosureTransport {
 public:
  struct Tls {
    std::string cert_pem;
    std::string key_pem;
    std::string ca_pem;
  };
  PeerClient(Tls tls, absl::Duration timeout)
      : timeout_(timeout), tls_(std::move(tls)) {}

  // Presents `tls` from the next call on (a certificate rotation). Calls in
  // flight finish on the connection they started on.
  void SetTls(Tls tls);

  // `done` runs on one of gRPC's threads.
  void DiscloseAsync(const haven::v1::Member& holder,
                     haven::v1::DiscloseRequest request,
                     DiscloseDone done) override;
  absl::Status OfferHandle(const haven::v1::Member& grantee,
                           const haven::v1::OfferHandleRequest& request);
  absl::Status NotifyRevocation(
      const haven::v1::Member& grantee,
      const haven::v1::NotifyRevocationRequest& request);
  absl::StatusOr<haven::v1::ExchangeCheckpointResponse> ExchangeCheckpoint(
      const haven::v1::Member& peer,
      const haven::v1::ExchangeCheckpointRequest& request);
  // The signed manifest `peer` holds, unverified (the caller checks it).
  absl::StatusOr<std::string> GetManifest(const haven::v1::Member& peer);

 private:
  // Shared: the cache may drop a stub while a call on it is under way.
  std::shared_ptr<haven::v1::PeerService::Stub> StubFor(
      const haven::v1::Member& member);
  std::unique_ptr<grpc::ClientContext> NewContext() const;
  // One unary call to `peer` with the deadline, its status named by peer.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(
      const haven::v1::Member& peer,
      grpc::Status (haven::v1::PeerService::Stub::*method)(grpc::ClientContext*,
                                                           const Request&,
                                                           Response*),
      const Request& request);

  // Constant after construction.
  const absl::Duration timeout_;

  absl::Mutex mu_;
  // Protected by mu_.
  Tls tls_ ABSL_GUARDED_BY(mu_);
  // agency id -> ("<endpoint> <cert_sha256> <next_cert_sha256>", stub)
  std::map<
      std::string,
      std::pair<std::string, std::shared_ptr<haven::v1::PeerService::Stub>>>
      stubs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_PEER_CLIENT_H_
