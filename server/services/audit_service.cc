#include "server/services/audit_service.h"

#include "absl/strings/str_cat.h"
#include "client/verify/cosignature.h"
#include "client/verify/signed_note.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "server/audit/audit_recorder.h"
#include "server/audit/break_glass_reviews.h"
#include "server/audit/log_queries.h"
#include "server/exchange/cosignature_store.h"
#include "server/exchange/witness.h"
#include "server/services/polling_writer.h"

namespace haven::server::services {
namespace {

constexpr uint64_t kPage = limits::kMaxEntriesPerRead;

}  // namespace

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
  return audit::GetEntries(*deps_.audit, request.start(), request.count(),
                           response);
}

absl::Status AuditServiceImpl::DoFindEntries(
    const auth::Principal&, const haven::v1::FindEntriesRequest& request,
    haven::v1::FindEntriesResponse* response) {
  HAVEN_RETURN_IF_ERROR(CheckMaxBytes(request.subject_pseudonym(),
                                      "subject_pseudonym",
                                      limits::kPseudonymChars));
  HAVEN_RETURN_IF_ERROR(CheckMaxBytes(request.agency_id(), "agency_id",
                                      limits::kMaxAgencyIdBytes));
  return audit::FindEntries(*deps_.audit, request, response);
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
  return audit::GetProofBundle(*deps_.audit, request.leaf_index(),
                               response->mutable_bundle());
}

absl::Status AuditServiceImpl::DoSubjectAccessReport(
    const auth::Principal&,
    const haven::v1::SubjectAccessReportRequest& request,
    haven::v1::SubjectAccessReportResponse* response) {
  HAVEN_RETURN_IF_ERROR(
      CheckNodeId(request.subject_id(), "subject_id", /*required=*/true));
  return audit::SubjectAccessReport(*deps_.audit, request.subject_id(),
                                    request.start(), response);
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
          HAVEN_RETURN_IF_ERROR(audit::FitForResponse(&entries[i]));
          *batch.items[i].mutable_entry() = std::move(entries[i]);
        }
        return batch;
      });
}

}  // namespace haven::server::services
