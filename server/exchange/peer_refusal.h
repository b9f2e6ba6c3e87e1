// The fixed set of reasons a holder gives a peer for refusing a request.
//
// Nothing internal crosses to a peer: no subject or record id, no path, no
// library message. Whatever went wrong inside is mapped to one of these,
// and the peer sees only its code and fixed text; the holder's own log
// records the same reason.
#ifndef HAVEN_SERVER_EXCHANGE_PEER_REFUSAL_H_
#define HAVEN_SERVER_EXCHANGE_PEER_REFUSAL_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace haven::server::exchange {

enum class PeerRefusal {
  kMalformed,       // INVALID_ARGUMENT: the request does not parse or is out of
                    // bounds
  kWrongAgency,     // PERMISSION_DENIED: the body names another agency
  kStale,           // FAILED_PRECONDITION: sent outside the clock window
  kReplay,          // ALREADY_EXISTS: the request id was used before
  kUnknownHandle,   // NOT_FOUND: no such handle for this agency (also a
                    // withdrawn handle, or an erased subject)
  kNoPolicy,        // FAILED_PRECONDITION: the holder shares nothing now
  kConsentChanged,  // FAILED_PRECONDITION: consent or refusal changed
                    // while the request was decided
  kHolderUnavailable,  // UNAVAILABLE: the holder could not read its records
  kBadSignature,       // UNAUTHENTICATED: the batch is not signed by the caller
};

// The status a peer receives for `reason`.
absl::Status PeerRefusalStatus(PeerRefusal reason);

// A short fixed code for `reason` ("malformed", "replay", ...): the reason
// label of the holder's decision metric.
absl::string_view PeerRefusalCode(PeerRefusal reason);

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_PEER_REFUSAL_H_
