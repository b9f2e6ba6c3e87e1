// Action: one change of the node's state together with the audit entries
// that record it, committed by the audit log in one atomic, synced write
// (AuditLog::CommitAsync). Either both are durable or neither is.
#ifndef HAVEN_SERVER_AUDIT_ACTION_H_
#define HAVEN_SERVER_AUDIT_ACTION_H_

#include <vector>

#include "haven/v1/audit.pb.h"
#include "server/storage/storage.h"

namespace haven::server::audit {

struct Action {
  // As logged (AuditRecorder::Stamped); at least one.
  std::vector<haven::v1::AuditEntry> entries;
  // What the action changes; may be empty (an action that only reads).
  storage::WriteBatch state;
};

}  // namespace haven::server::audit

#endif  // HAVEN_SERVER_AUDIT_ACTION_H_
