#include "server/audit/log_queries.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "haven/base/limits.h"
#include "haven/base/page_budget.h"
#include "haven/base/status_macros.h"
#include "server/audit/break_glass_reviews.h"

namespace haven::server::audit {
namespace {

bool Matches(const audit::AuditRecorder& audit,
             const haven::v1::FindEntriesRequest& filter,
             const haven::v1::AuditEntry& entry) {
  // A node-wide pseudonym also finds the entries about peers' requests,
  // which carry the one scoped to that peer; a scoped one finds those.
  if (!filter.subject_pseudonym().empty() &&
      entry.subject_pseudonym() != filter.subject_pseudonym() &&
      !audit.IsAbout(entry, filter.subject_pseudonym())) {
    return false;
  }
  if (!filter.agency_id().empty() && entry.agency_id() != filter.agency_id()) {
    return false;
  }
  if (filter.break_glass() && !entry.break_glass()) return false;
  if (filter.kind() != haven::v1::ENTRY_KIND_UNSPECIFIED &&
      entry.kind() != filter.kind()) {
    return false;
  }
  int64_t seconds = entry.time_unix_nanos() / 1'000'000'000;
  if (filter.time().from_unix() != 0 && seconds < filter.time().from_unix()) {
    return false;
  }
  if (filter.time().until_unix() != 0 &&
      seconds >= filter.time().until_unix()) {
    return false;
  }
  return true;
}

// A survivor's "who has seen my data": her agency's own staff reading,
// writing and erasing her records, consent and do-not-share changes, the
// handles that let other agencies ask, and every peer request and its
// answer (break-glass included). Not node housekeeping (start, stop, keys).
bool InAccessReport(haven::v1::EntryKind kind) {
  switch (kind) {
    case haven::v1::DISCLOSURE:
    case haven::v1::REQUEST_REFUSED:
    case haven::v1::BREAK_GLASS:
    case haven::v1::RECORD_READ:
    case haven::v1::RECORD_WRITTEN:
    case haven::v1::SUBJECT_ERASED:
    case haven::v1::CONSENT_RECORDED:
    case haven::v1::CONSENT_AMENDED:
    case haven::v1::CONSENT_PAUSED:
    case haven::v1::CONSENT_RESUMED:
    case haven::v1::CONSENT_REVOKED:
    case haven::v1::REFUSAL_RECORDED:
    case haven::v1::REFUSAL_LIFTED:
    case haven::v1::HANDLE_ISSUED:
    case haven::v1::HANDLE_WITHDRAWN:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::Status FitForResponse(haven::v1::IndexedEntry* entry) {
  if (entry->ByteSizeLong() <= limits::kMaxItemReadBytes) {
    return absl::OkStatus();
  }
  entry->clear_entry();
  if (entry->ByteSizeLong() <= limits::kMaxItemReadBytes) {
    return absl::OkStatus();
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("audit entry ", entry->index(), " is ", entry->leaf().size(),
                   " bytes, more than one response carries (",
                   limits::kMaxItemReadBytes, ")"));
}

absl::Status GetEntries(const AuditRecorder& audit, uint64_t start,
                        uint64_t count, haven::v1::GetEntriesResponse* out) {
  if (count == 0) count = 100;
  if (count > limits::kMaxEntriesPerRead) {
    return absl::InvalidArgumentError(absl::StrCat(
        "count must be at most ", limits::kMaxEntriesPerRead, " per call"));
  }
  // At most kMaxReadBytes, or one entry alone.
  HAVEN_ASSIGN_OR_RETURN(auto entries, audit.log()->GetEntries(start, count));
  for (auto& entry : entries) {
    HAVEN_RETURN_IF_ERROR(FitForResponse(&entry));
    *out->add_entries() = std::move(entry);
  }
  return absl::OkStatus();
}

absl::Status FindEntries(const AuditRecorder& audit,
                         const haven::v1::FindEntriesRequest& filter,
                         haven::v1::FindEntriesResponse* out) {
  const uint32_t limit =
      filter.limit() == 0 ? 1000 : std::min(filter.limit(), 10000u);
  return ScanLog(*audit.log(), [&](const haven::v1::IndexedEntry& entry) {
    if (Matches(audit, filter, entry.entry())) *out->add_entries() = entry;
    return static_cast<uint32_t>(out->entries_size()) < limit;
  });
}

absl::Status GetProofBundle(const AuditRecorder& audit, uint64_t leaf_index,
                            haven::v1::ProofBundle* out) {
  const AuditLog& log = *audit.log();
  haven::v1::Checkpoint checkpoint = log.LatestCheckpoint();
  if (leaf_index >= checkpoint.tree_size()) {
    return absl::OutOfRangeError("leaf index is beyond the latest checkpoint");
  }
  HAVEN_ASSIGN_OR_RETURN(auto entries, log.GetEntries(leaf_index, 1));
  if (entries.empty()) return absl::DataLossError("entry missing from the log");
  HAVEN_RETURN_IF_ERROR(FitForResponse(&entries[0]));
  HAVEN_ASSIGN_OR_RETURN(auto proof,
                         log.InclusionProof(leaf_index, checkpoint.tree_size()));
  *out->mutable_checkpoint() = std::move(checkpoint);
  *out->mutable_entry() = std::move(entries[0]);
  *out->mutable_proof() = std::move(proof);
  out->set_verifier_key(log.VerifierKey());
  return absl::OkStatus();
}

absl::Status SubjectAccessReport(const AuditRecorder& audit,
                                 const std::string& subject_id, uint64_t start,
                                 haven::v1::SubjectAccessReportResponse* out) {
  const std::string pseudonym = audit.Pseudonym(subject_id);
  // A subject read every day for years has thousands of entries: pages
  // bounded like every read, continued from next_start.
  PageBudget budget(limits::kMaxEntriesPerRead, limits::kMaxReadBytes);
  absl::flat_hash_set<uint64_t> her_break_glass;
  return ScanLog(
      *audit.log(),
      [&](const haven::v1::IndexedEntry& entry) {
        const haven::v1::AuditEntry& e = entry.entry();
        const bool about_her =
            audit.IsAbout(e, pseudonym) && InAccessReport(e.kind());
        // A sign-off names no subject; it is hers if the decision was.
        const bool her_review = e.kind() == haven::v1::BREAK_GLASS_REVIEWED &&
                                her_break_glass.contains(e.reviewed_index());
        if (!about_her && !her_review) return true;
        if (IsBreakGlassDecision(e)) her_break_glass.insert(entry.index());
        if (!budget.Take(entry.ByteSizeLong())) {
          out->set_next_start(entry.index());
          return false;
        }
        *out->add_entries() = entry;
        return true;
      },
      start);
}

}  // namespace haven::server::audit
