#include "server/exchange/federation_round.h"

#include "absl/strings/str_cat.h"
#include "server/node/event_log.h"

namespace haven::server::exchange {

void FederationRound::RunOnce() {
  int verified = deps_.witness->WitnessAll();
  node::LogEvent("peers_witnessed", {{"verified", absl::StrCat(verified)}});
  // A consent that ran out withdraws its handles as a revocation would:
  // otherwise the grantee could still name the survivor, and break-glass
  // stays open to it for every survivor it ever had a handle for.
  absl::StatusOr<int> expired = deps_.consents->SweepExpired();
  if (!expired.ok()) {
    node::LogEvent(
        "consent_expiry_failed",
        {{"code", absl::StatusCodeToString(expired.status().code())}});
  } else if (*expired > 0) {
    node::LogEvent("consents_expired",
                   {{"handles_changed", absl::StrCat(*expired)}});
  }
  if (first_round_.exchange(false)) {
    std::vector<std::string> members;
    for (const auto& member : deps_.federation->current()->proto().members()) {
      members.push_back(member.agency_id());
    }
    ReconcileMembers(std::move(members));
  }
  DeliverOutbox();
}

void FederationRound::ReconcileMembers(std::vector<std::string> agencies) {
  if (agencies.empty()) return;
  absl::StatusOr<int> reconciled =
      deps_.consents->ReconcileMembers(std::move(agencies));
  if (!reconciled.ok()) {
    node::LogEvent(
        "membership_handles_failed",
        {{"code", absl::StatusCodeToString(reconciled.status().code())}});
  } else {
    node::LogEvent("membership_handles",
                   {{"subjects_changed", absl::StrCat(*reconciled)}});
  }
}

PeerOutbox::PassResult FederationRound::DeliverOutbox() {
  PeerOutbox::PassResult pass = deps_.outbox->DeliverPending(deps_.send);
  if (pass.delivered + pass.pending + pass.dropped > 0) {
    node::LogEvent("peer_outbox", {{"delivered", absl::StrCat(pass.delivered)},
                                   {"pending", absl::StrCat(pass.pending)},
                                   {"dropped", absl::StrCat(pass.dropped)}});
  }
  return pass;
}

}  // namespace haven::server::exchange
