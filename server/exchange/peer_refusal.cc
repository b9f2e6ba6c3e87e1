#include "server/exchange/peer_refusal.h"

namespace haven::server::exchange {

absl::Status PeerRefusalStatus(PeerRefusal reason) {
  switch (reason) {
    case PeerRefusal::kMalformed:
      return absl::InvalidArgumentError(
          "the request is malformed or out of bounds");
    case PeerRefusal::kWrongAgency:
      return absl::PermissionDeniedError(
          "the request names another agency than the caller's certificate");
    case PeerRefusal::kStale:
      return absl::FailedPreconditionError(
          "the request time is outside the holder's accepted window (check "
          "the requester's clock)");
    case PeerRefusal::kReplay:
      return absl::AlreadyExistsError(
          "the request id was used before (replay refused)");
    case PeerRefusal::kUnknownHandle:
      return absl::NotFoundError("no such subject handle for this agency");
    case PeerRefusal::kNoPolicy:
      return absl::FailedPreconditionError(
          "the holder has no sharing policy in force; nothing is shared");
    case PeerRefusal::kConsentChanged:
      return absl::FailedPreconditionError(
          "the survivor's consent changed while the request was decided; "
          "ask again");
    case PeerRefusal::kHolderUnavailable:
      return absl::UnavailableError(
          "the holder could not read its records; nothing was disclosed");
    case PeerRefusal::kBadSignature:
      return absl::UnauthenticatedError(
          "the request batch is not signed by the calling agency");
  }
  return absl::UnavailableError("the holder refused the request");
}

absl::string_view PeerRefusalCode(PeerRefusal reason) {
  switch (reason) {
    case PeerRefusal::kMalformed:
      return "malformed";
    case PeerRefusal::kWrongAgency:
      return "wrong_agency";
    case PeerRefusal::kStale:
      return "stale";
    case PeerRefusal::kReplay:
      return "replay";
    case PeerRefusal::kUnknownHandle:
      return "unknown_handle";
    case PeerRefusal::kNoPolicy:
      return "no_policy";
    case PeerRefusal::kConsentChanged:
      return "consent_changed";
    case PeerRefusal::kHolderUnavailable:
      return "holder_unavailable";
    case PeerRefusal::kBadSignature:
      return "bad_signature";
  }
  return "other";
}

}  // namespace haven::server::exchange
