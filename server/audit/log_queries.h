// The reads auditors and advocates make of the node's audit log, each
// bounded like every read: entries by index, a search by filter, the proof
// bundle of one entry, and a survivor's access report. The AuditService
// checks the caller and the request's bounds, then calls these.
// Thread-safe (the log is).
#ifndef HAVEN_SERVER_AUDIT_LOG_QUERIES_H_
#define HAVEN_SERVER_AUDIT_LOG_QUERIES_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "haven/v1/audit.pb.h"
#include "server/audit/audit_recorder.h"

namespace haven::server::audit {

// Makes one entry fit in a response under gRPC's message limit. The parsed
// `entry` is a copy of the leaf's bytes for the reader's convenience; an
// entry whose leaf and copy together pass kMaxItemReadBytes is sent as its
// leaf alone (the reader parses it). RESOURCE_EXHAUSTED if even the leaf
// is larger.
absl::Status FitForResponse(haven::v1::IndexedEntry* entry);

// Up to `count` entries from `start` (100 if 0), at most kMaxReadBytes or
// one entry alone. INVALID_ARGUMENT above kMaxEntriesPerRead.
absl::Status GetEntries(const AuditRecorder& audit, uint64_t start,
                        uint64_t count, haven::v1::GetEntriesResponse* out);

// The entries matching `filter`, oldest first, up to its limit (1000 if 0,
// at most 10000).
absl::Status FindEntries(const AuditRecorder& audit,
                         const haven::v1::FindEntriesRequest& filter,
                         haven::v1::FindEntriesResponse* out);

// Entry `leaf_index` with its inclusion proof in the latest checkpoint and
// the verifier key: all an offline verifier needs. OUT_OF_RANGE beyond the
// checkpoint.
absl::Status GetProofBundle(const AuditRecorder& audit, uint64_t leaf_index,
                            haven::v1::ProofBundle* out);

// A survivor's "who has seen my data" from index `start`: her agency's own
// staff reading, writing and erasing her records, consent and do-not-share
// changes, the handles that let other agencies ask, every peer request and
// its answer, and the sign-offs of her break-glass decisions. One bounded
// page; `out->next_start` is set when more follow.
absl::Status SubjectAccessReport(const AuditRecorder& audit,
                                 const std::string& subject_id, uint64_t start,
                                 haven::v1::SubjectAccessReportResponse* out);

}  // namespace haven::server::audit

#endif  // HAVEN_SERVER_AUDIT_LOG_QUERIES_H_
