// Start-up checks of the node's state against the newest audit entries,
// after the audit log has checked itself (AuditLog::Open).
//
// Every consent change in the newest entries must be in the consent store
// at that version or later (an entry voided at start is skipped): a store
// rolled back behind the log stops the node with what disagrees. The
// holder's decisions of the last few minutes give the replay guard the
// request ids it saw before the restart, so a replayed request is refused
// across a restart too.
#ifndef HAVEN_SERVER_NODE_RECOVERY_H_
#define HAVEN_SERVER_NODE_RECOVERY_H_

#include <string>

#include "absl/status/status.h"
#include "haven/base/clock.h"
#include "server/audit/audit_log.h"
#include "server/consent/consent_registry.h"
#include "server/exchange/replay_guard.h"

namespace haven::server::node {

// How many of the newest entries are checked against the consent store.
inline constexpr uint64_t kTailEntriesChecked = 10000;

// DATA_LOSS naming the entry and the consent that disagree.
absl::Status CheckLogTail(const audit::AuditLog& log,
                          const consent::ConsentRegistry& consents,
                          const std::string& agency_id,
                          const Clock& clock,
                          exchange::ReplayGuard* replay);

}  // namespace haven::server::node

#endif  // HAVEN_SERVER_NODE_RECOVERY_H_
