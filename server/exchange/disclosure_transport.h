// DisclosureTransport: how a requester reaches a holder's
// PeerService.Disclose. PeerClient is the real one (mutual TLS); tests use
// fakes to hold, fail or answer calls.
#ifndef HAVEN_SERVER_EXCHANGE_DISCLOSURE_TRANSPORT_H_
#define HAVEN_SERVER_EXCHANGE_DISCLOSURE_TRANSPORT_H_

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "haven/v1/exchange.pb.h"
#include "haven/v1/federation.pb.h"

namespace haven::server::exchange {

class DisclosureTransport {
 public:
  using DiscloseDone =
      absl::AnyInvocable<void(absl::StatusOr<haven::v1::DiscloseResponse>)>;

  virtual ~DisclosureTransport() = default;

  // Sends `request` to `holder` and returns at once. `done` runs exactly
  // once, with the holder's answers or with an error for the whole batch
  // (UNAVAILABLE naming the holder if it could not be reached in time); it
  // may run on any thread and must not block.
  virtual void DiscloseAsync(const haven::v1::Member& holder,
                             haven::v1::DiscloseRequest request,
                             DiscloseDone done) = 0;
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_DISCLOSURE_TRANSPORT_H_
