// GranteeInbox: what this node accepts from holders as a grantee: handle
// offers and revocation notices.
//
// Each arrives signed by the holder (its manifest key) and must name the
// calling agency as holder and this node as grantee. A new handle is
// stored with its HANDLE_RECEIVED entry in one commit; an offer already
// held is accepted again without a second entry (holders deliver at least
// once). A notice is logged (REVOCATION_NOTICE_RECEIVED) and shown to
// local watchers; a notice that the handle was withdrawn also forgets the
// handle, in the same commit. Limits (RESOURCE_EXHAUSTED
// beyond them, nothing stored): kMaxHandlesPerHolder handles per holder.
// Thread-safe.
#ifndef HAVEN_SERVER_EXCHANGE_GRANTEE_INBOX_H_
#define HAVEN_SERVER_EXCHANGE_GRANTEE_INBOX_H_

#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "haven/v1/exchange.pb.h"
#include "haven/v1/federation.pb.h"
#include "server/audit/audit_recorder.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/notice_board.h"

namespace haven::server::exchange {

inline constexpr size_t kMaxHandlesPerHolder = 100000;

class GranteeInbox {
 public:
  // Everything borrowed; must outlive the inbox.
  struct Deps {
    std::string agency_id;
    const HandleStore* handles = nullptr;
    NoticeBoard* notices = nullptr;
    const audit::AuditRecorder* audit = nullptr;
  };
  explicit GranteeInbox(Deps deps) : deps_(std::move(deps)) {}

  // From `peer` (the manifest member its certificate matched).
  absl::Status AcceptHandle(const haven::v1::Member& peer,
                            const haven::v1::OfferHandleRequest& request);
  absl::Status AcceptNotice(const haven::v1::Member& peer,
                            const haven::v1::NotifyRevocationRequest& request);

 private:
  const Deps deps_;
  // One change of the received handles at a time (check, then commit).
  absl::Mutex mu_;
};

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_GRANTEE_INBOX_H_
