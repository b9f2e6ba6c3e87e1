// GranteeInbox: what this node accepts from holders as a grantee: handle
// offers and revocation notices.
//
// Each arrives signed by the holder (its manifest key) and must name the
// calling agency as holder and this node as grantee. A new handle is
// stored with its HANDLE_RECEIVED entry in one commit; an offer already
// held is accepted again without a second entry (holders deliver at least
// once). A notice is logged (REVOCATION_NOTICE_RECEIVED) and shown to
// local watchers; a notice that the handle was withdrawn also forgets the
// handle, in the same commit.
//
// Limits (proto/haven/base/limits.h), checked before the signature or
// anything else, so that nothing large is hashed, stored, logged or kept
// in memory: every field of an offer or notice is bounded, and so is the
// whole request, fields this node does not know included (INVALID_ARGUMENT
// beyond them). A holder may have at most `max_handles_per_holder` handles
// here; a new one beyond that gets RESOURCE_EXHAUSTED. A refused offer or
// notice stores, logs and shows nothing.
//
// Thread-safe.
#ifndef HAVEN_SERVER_EXCHANGE_GRANTEE_INBOX_H_
#define HAVEN_SERVER_EXCHANGE_GRANTEE_INBOX_H_

#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "haven/base/limits.h"
#include "haven/v1/exchange.pb.h"
#include "haven/v1/federation.pb.h"
#include "server/audit/audit_recorder.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/notice_board.h"

namespace haven::server::exchange {

class GranteeInbox {
 public:
  // Everything borrowed; must outlive the inbox.
  struct Deps {
    std::string agency_id;
    const HandleStore* handles = nullptr;
    NoticeBoard* notices = nullptr;
    const audit::AuditRecorder* audit = nullptr;
    // Handles kept from one holder (tests set a small number).
    size_t max_handles_per_holder = limits::kMaxHandlesPerHolder;
  };
  explicit GranteeInbox(Deps deps) : deps_(std::move(deps)) {}

  // From `peer` (the manifest member its certificate matched). Once
  // accepted (or found already held / not held), a handle_received or
  // revocation_notice_received event follows.
  absl::Status AcceptHandle(const haven::v1::Member& peer,
                            const haven::v1::OfferHandleRequest& request);
  absl::Status AcceptNotice(const haven::v1::Member& peer,
                            const haven::v1::NotifyRevocationRequest& request);

 private:
  absl::Status KeepHandle(const haven::v1::Member& peer,
                          const haven::v1::OfferHandleRequest& request);
  absl::Status KeepNotice(const haven::v1::Member& peer,
                          const haven::v1::NotifyRevocationRequest& request);

  const Deps deps_;
  // One change of the received handles at a time (check, then commit).
  absl::Mutex mu_;
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_GRANTEE_INBOX_H_
