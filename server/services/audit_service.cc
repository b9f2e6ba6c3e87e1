#include "server/services/audit_service.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "client/verify/cosignature.h"
#include "client/verify/signed_note.h"
#include "haven/base/limits.h"
#include "haven/base/page_budget.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "server/audit/audit_recorder.h"
#include "server/audit/break_glass_reviews.h"
#include "server/exchange/cosignature_store.h"
#include "server/exchange/witness.h"
#include "server/services/polling_writer.h"

namespace haven::server::services {
namespace {

constexpr uint64_t kPage = limits::kMaxEntriesPerRead;

// Makes one entry fit in a response under gRPC's message limit. The parsed
// `entry` is a copy of the leaf's bytes for the reader's convenience; an
// entry whose leaf and copy together pass kMaxItemReadBytes is sent as its
// leaf alone (the reader parses it). RESOURCE_EXHAUSTED if even the leaf
// is larger.
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

absl::Status AuditServiceImpl::Scan(
    const std::function<bool(const haven::v1::IndexedEntry&)>& visit,
    uint64_t start) const {
  return audit::ScanLog(*deps_.audit->log(), visit, start);
}

absl::Status AuditServiceImpl::DoGetCheckpoint(
    const auth::Principal&, const haven::v1::GetCheckpointRequest& request,
    haven::v1::GetCheckpointResponse* response) {
  const audit::AuditLog& log = *deps_.audit->log();
  if (request.min_cosignatures() >
      static_cast<uint32_t>(limits::kMaxCosignaturesPerCheckpoint)) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_cosignatures must be at most ",
                     limits::kMaxCosignaturesPerCheckpoint));
  }
  if (request.cosigned()) {
    HAVEN_ASSIGN_OR_RETURN(*response->mutable_checkpoint(),
                           deps_.cosignatures->Cosigned(
                               static_cast<int>(request.min_cosignatures())));
  } else {
    *response->mutable_checkpoint() = log.LatestCheckpoint();
  }
  response->set_verifier_key(log.VerifierKey());
  // The witness key names the same Ed25519 key as the verifier key.
  HAVEN_ASSIGN_OR_RETURN(client::NoteVerifierKey key,
                         client::ParseVerifierKey(log.VerifierKey()));
  HAVEN_ASSIGN_OR_RETURN(
      *response->mutable_witness_key(),
      client::FormatCosignatureKey(key.name, key.public_key));
  return absl::OkStatus();
}

absl::Status AuditServiceImpl::DoGetEntries(
    const auth::Principal&, const haven::v1::GetEntriesRequest& request,
    haven::v1::GetEntriesResponse* response) {
  uint64_t count = request.count() == 0 ? 100 : request.count();
  if (count > kPage) {
    return absl::InvalidArgumentError(
        absl::StrCat("count must be at most ", kPage, " per call"));
  }
  // At most kMaxReadBytes, or one entry alone.
  HAVEN_ASSIGN_OR_RETURN(
      auto entries, deps_.audit->log()->GetEntries(request.start(), count));
  for (auto& entry : entries) {
    HAVEN_RETURN_IF_ERROR(FitForResponse(&entry));
    *response->add_entries() = std::move(entry);
  }
  return absl::OkStatus();
}

absl::Status AuditServiceImpl::DoFindEntries(
    const auth::Principal&, const haven::v1::FindEntriesRequest& request,
    haven::v1::FindEntriesResponse* response) {
  HAVEN_RETURN_IF_ERROR(CheckMaxBytes(request.subject_pseudonym(),
                                      "subject_pseudonym",
                                      limits::kPseudonymChars));
  HAVEN_RETURN_IF_ERROR(CheckMaxBytes(request.agency_id(), "agency_id",
                                      limits::kMaxAgencyIdBytes));
  uint32_t limit =
      request.limit() == 0 ? 1000 : std::min(request.limit(), 10000u);
  return Scan([&](const haven::v1::IndexedEntry& entry) {
    if (Matches(*deps_.audit, request, entry.entry()))
      *response->add_entries() = entry;
    return static_cast<uint32_t>(response->entries_size()) < limit;
  });
}

absl::Status AuditServiceImpl::DoGetInclusionProof(
    const auth::Principal&, const haven::v1::GetInclusionProofRequest& request,
    haven::v1::GetInclusionProofResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(*response->mutable_proof(),
                         deps_.audit->log()->InclusionProof(
                             request.leaf_index(), request.tree_size()));
  return absl::OkStatus();
}

absl::Status AuditServiceImpl::DoGetConsistencyProof(
    const auth::Principal&,
    const haven::v1::GetConsistencyProofRequest& request,
    haven::v1::GetConsistencyProofResponse* response) {
  // RFC 6962 / RFC 9162 define no proof from the empty tree and standard
  // verifiers (Go's tlog) reject one, so none is served. The log itself
  // still answers old size 0 for its internal callers.
  if (request.old_size() == 0) {
    return absl::InvalidArgumentError(
        "old_size must be at least 1: there is no consistency proof from the "
        "empty tree");
  }
  HAVEN_ASSIGN_OR_RETURN(*response->mutable_proof(),
                         deps_.audit->log()->ConsistencyProof(
                             request.old_size(), request.new_size()));
  return absl::OkStatus();
}

absl::Status AuditServiceImpl::DoGetProofBundle(
    const auth::Principal&, const haven::v1::GetProofBundleRequest& request,
    haven::v1::GetProofBundleResponse* response) {
  const audit::AuditLog& log = *deps_.audit->log();
  haven::v1::Checkpoint checkpoint = log.LatestCheckpoint();
  if (request.leaf_index() >= checkpoint.tree_size()) {
    return absl::OutOfRangeError("leaf index is beyond the latest checkpoint");
  }
  HAVEN_ASSIGN_OR_RETURN(auto entries, log.GetEntries(request.leaf_index(), 1));
  if (entries.empty()) return absl::DataLossError("entry missing from the log");
  HAVEN_RETURN_IF_ERROR(FitForResponse(&entries[0]));
  HAVEN_ASSIGN_OR_RETURN(
      auto proof,
      log.InclusionProof(request.leaf_index(), checkpoint.tree_size()));
  auto* bundle = response->mutable_bundle();
  *bundle->mutable_checkpoint() = std::move(checkpoint);
  *bundle->mutable_entry() = std::move(entries[0]);
  *bundle->mutable_proof() = std::move(proof);
  bundle->set_verifier_key(log.VerifierKey());
  return absl::OkStatus();
}

absl::Status AuditServiceImpl::DoSubjectAccessReport(
    const auth::Principal&,
    const haven::v1::SubjectAccessReportRequest& request,
    haven::v1::SubjectAccessReportResponse* response) {
  HAVEN_RETURN_IF_ERROR(
      CheckNodeId(request.subject_id(), "subject_id", /*required=*/true));
  const std::string pseudonym = deps_.audit->Pseudonym(request.subject_id());
  // A subject read every day for years has thousands of entries: pages
  // bounded like every read, continued from next_start.
  PageBudget budget(limits::kMaxEntriesPerRead, limits::kMaxReadBytes);
  absl::flat_hash_set<uint64_t> her_break_glass;
  return Scan(
      [&](const haven::v1::IndexedEntry& entry) {
        const haven::v1::AuditEntry& e = entry.entry();
        const bool about_her =
            deps_.audit->IsAbout(e, pseudonym) && InAccessReport(e.kind());
        // A sign-off names no subject; it is hers if the decision was.
        const bool her_review = e.kind() == haven::v1::BREAK_GLASS_REVIEWED &&
                                her_break_glass.contains(e.reviewed_index());
        if (!about_her && !her_review) return true;
        if (audit::IsBreakGlassDecision(e)) her_break_glass.insert(entry.index());
        if (!budget.Take(entry.ByteSizeLong())) {
          response->set_next_start(entry.index());
          return false;
        }
        *response->add_entries() = entry;
        return true;
      },
      request.start());
}

absl::Status AuditServiceImpl::DoGetWitnessed(
    const auth::Principal&, const haven::v1::GetWitnessedRequest& request,
    haven::v1::GetWitnessedResponse* response) {
  HAVEN_RETURN_IF_ERROR(CheckMaxBytes(request.agency_id(), "agency_id",
                                      limits::kMaxAgencyIdBytes));
  HAVEN_ASSIGN_OR_RETURN(auto witnessed,
                         deps_.witness->Witnessed(request.agency_id()));
  for (auto& w : witnessed) *response->add_witnessed() = std::move(w);
  HAVEN_ASSIGN_OR_RETURN(auto failures,
                         deps_.witness->Failures(request.agency_id()));
  for (auto& f : failures) *response->add_failures() = std::move(f);
  return absl::OkStatus();
}

absl::Status AuditServiceImpl::DoListBreakGlassReviews(
    const auth::Principal&,
    const haven::v1::ListBreakGlassReviewsRequest& request,
    haven::v1::ListBreakGlassReviewsResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(auto reviews,
                         deps_.reviews->List(request.include_signed_off()));
  for (auto& review : reviews) *response->add_reviews() = std::move(review);
  return absl::OkStatus();
}

absl::Status AuditServiceImpl::DoSignOffBreakGlass(
    const auth::Principal& who,
    const haven::v1::SignOffBreakGlassRequest& request,
    haven::v1::SignOffBreakGlassResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      uint64_t index,
      deps_.reviews->SignOff(who.name, request.index(), request.note()));
  response->set_audit_index(index);
  return absl::OkStatus();
}

grpc::ServerWriteReactor<haven::v1::FollowResponse>* AuditServiceImpl::Follow(
    grpc::CallbackServerContext* call,
    const haven::v1::FollowRequest* request) {
  absl::StatusOr<auth::Principal> principal =
      Authenticate(call, env_, {haven::v1::AUDITOR});
  if (!principal.ok()) {
    return new RefusedStream<haven::v1::FollowResponse>(principal.status());
  }
  const audit::AuditLog* log = deps_.audit->log();
  // Entries from `start`, then new ones as the log grows (polled: the log
  // has no change feed, and an auditor's follow need not be instant).
  using Writer = PollingWriter<haven::v1::FollowResponse>;
  return new Writer(
      request->start(),
      [log](uint64_t next,
            absl::Duration wait) -> absl::StatusOr<Writer::Batch> {
        Writer::Batch batch;
        batch.first = next;
        if (next >= log->Size()) {
          absl::SleepFor(wait);
          if (next >= log->Size()) return batch;
        }
        // At most kMaxReadBytes held at once, or one entry alone.
        HAVEN_ASSIGN_OR_RETURN(auto entries, log->GetEntries(next, kPage));
        batch.items.resize(entries.size());
        for (size_t i = 0; i < entries.size(); ++i) {
          HAVEN_RETURN_IF_ERROR(FitForResponse(&entries[i]));
          *batch.items[i].mutable_entry() = std::move(entries[i]);
        }
        return batch;
      });
}

}  // namespace haven::server::services
