#include "server/services/audit_service.h"

#include "absl/strings/str_cat.h"
#include "client/verify/cosignature.h"
#include "client/verify/signed_note.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "server/audit/audit_recorder.h"
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

bool InAccessReport(haven::v1::EntryKind kind) {
  return kind == haven::v1::DISCLOSURE || kind == haven::v1::REQUEST_REFUSED ||
         kind == haven::v1::BREAK_GLASS;
}

}  // namespace

absl::Status AuditServiceImpl::Scan(
    const std::function<bool(const haven::v1::IndexedEntry&)>& visit) const {
  const audit::AuditLog& log = *context_.audit->log();
  uint64_t size = log.Size();
  // Reads are bounded by bytes too: each continues after the last entry
  // the one before returned.
  for (uint64_t start = 0; start < size;) {
    HAVEN_ASSIGN_OR_RETURN(auto page, log.GetEntries(start, kPage));
    if (page.empty()) break;
    start += page.size();
    for (const auto& entry : page) {
      if (!visit(entry)) return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::Status AuditServiceImpl::DoGetCheckpoint(
    const auth::Principal&, const haven::v1::GetCheckpointRequest& request,
    haven::v1::GetCheckpointResponse* response) {
  const audit::AuditLog& log = *context_.audit->log();
  if (request.min_cosignatures() >
      static_cast<uint32_t>(limits::kMaxCosignaturesPerCheckpoint)) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_cosignatures must be at most ",
                     limits::kMaxCosignaturesPerCheckpoint));
  }
  if (request.cosigned()) {
    HAVEN_ASSIGN_OR_RETURN(*response->mutable_checkpoint(),
                           context_.cosignatures->Cosigned(
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
      auto entries, context_.audit->log()->GetEntries(request.start(), count));
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
    if (Matches(*context_.audit, request, entry.entry()))
      *response->add_entries() = entry;
    return static_cast<uint32_t>(response->entries_size()) < limit;
  });
}

absl::Status AuditServiceImpl::DoGetInclusionProof(
    const auth::Principal&, const haven::v1::GetInclusionProofRequest& request,
    haven::v1::GetInclusionProofResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(*response->mutable_proof(),
                         context_.audit->log()->InclusionProof(
                             request.leaf_index(), request.tree_size()));
  return absl::OkStatus();
}

absl::Status AuditServiceImpl::DoGetConsistencyProof(
    const auth::Principal&,
    const haven::v1::GetConsistencyProofRequest& request,
    haven::v1::GetConsistencyProofResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(*response->mutable_proof(),
                         context_.audit->log()->ConsistencyProof(
                             request.old_size(), request.new_size()));
  return absl::OkStatus();
}

absl::Status AuditServiceImpl::DoGetProofBundle(
    const auth::Principal&, const haven::v1::GetProofBundleRequest& request,
    haven::v1::GetProofBundleResponse* response) {
  const audit::AuditLog& log = *context_.audit->log();
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
  const std::string pseudonym = context_.audit->Pseudonym(request.subject_id());
  return Scan([&](const haven::v1::IndexedEntry& entry) {
    if (context_.audit->IsAbout(entry.entry(), pseudonym) &&
        InAccessReport(entry.entry().kind())) {
      *response->add_entries() = entry;
    }
    return true;
  });
}

absl::Status AuditServiceImpl::DoGetWitnessed(
    const auth::Principal&, const haven::v1::GetWitnessedRequest& request,
    haven::v1::GetWitnessedResponse* response) {
  HAVEN_RETURN_IF_ERROR(CheckMaxBytes(request.agency_id(), "agency_id",
                                      limits::kMaxAgencyIdBytes));
  HAVEN_ASSIGN_OR_RETURN(auto witnessed,
                         context_.witness->Witnessed(request.agency_id()));
  for (auto& w : witnessed) *response->add_witnessed() = std::move(w);
  HAVEN_ASSIGN_OR_RETURN(auto failures,
                         context_.witness->Failures(request.agency_id()));
  for (auto& f : failures) *response->add_failures() = std::move(f);
  return absl::OkStatus();
}

grpc::ServerWriteReactor<haven::v1::FollowResponse>* AuditServiceImpl::Follow(
    grpc::CallbackServerContext* call,
    const haven::v1::FollowRequest* request) {
  absl::StatusOr<auth::Principal> principal =
      CheckServing(context_).ok()
          ? context_.authenticator->Require(*call, {haven::v1::AUDITOR})
          : absl::StatusOr<auth::Principal>(CheckServing(context_));
  if (!principal.ok()) {
    return new RefusedStream<haven::v1::FollowResponse>(principal.status());
  }
  const audit::AuditLog* log = context_.audit->log();
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
