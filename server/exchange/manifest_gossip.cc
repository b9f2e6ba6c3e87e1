#include "server/exchange/manifest_gossip.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "haven/base/status_macros.h"
#include "server/node/event_log.h"

namespace haven::server::exchange {

absl::Status ManifestGossip::OnPeerSerial(const haven::v1::Member& peer,
                                          uint64_t serial) {
  if (serial <= deps_.federation->current()->serial()) return absl::OkStatus();
  absl::MutexLock lock(&fetch_mu_);
  // Checked again: the fetch this one waited for may have brought it.
  if (serial <= deps_.federation->current()->serial()) return absl::OkStatus();
  absl::StatusOr<std::string> note = deps_.peers->GetManifest(peer);
  if (!note.ok()) {
    node::LogEvent(
        "manifest_fetch_failed",
        {{"peer", peer.agency_id()},
         {"serial", absl::StrCat(serial)},
         {"status", absl::StatusCodeToString(note.status().code())}});
    return note.status();
  }
  return deps_.updater->OfferFromPeer(peer.agency_id(), *note).status();
}

}  // namespace haven::server::exchange
