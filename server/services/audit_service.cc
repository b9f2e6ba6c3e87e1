#include "server/services/audit_service.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "haven/base/status_macros.h"
#include "server/audit/audit_recorder.h"
#include "server/exchange/witness.h"

namespace haven::server::services {
namespace {

constexpr uint64_t kPage = 1000;

bool Matches(const haven::v1::FindEntriesRequest& filter,
             const haven::v1::AuditEntry& entry) {
  if (!filter.subject_pseudonym().empty() &&
      entry.subject_pseudonym() != filter.subject_pseudonym()) {
    return false;
  }
  if (!filter.agency_id().empty() && entry.agency_id() != filter.agency_id()) {
    return false;
  }
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
  for (uint64_t start = 0; start < size; start += kPage) {
    HAVEN_ASSIGN_OR_RETURN(auto page, log.GetEntries(start, kPage));
    for (const auto& entry : page) {
      if (!visit(entry)) return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::Status AuditServiceImpl::DoGetCheckpoint(
    const auth::Principal&, const haven::v1::GetCheckpointRequest&,
    haven::v1::GetCheckpointResponse* response) {
  *response->mutable_checkpoint() = context_.audit->log()->LatestCheckpoint();
  response->set_verifier_key(context_.audit->log()->VerifierKey());
  return absl::OkStatus();
}

absl::Status AuditServiceImpl::DoGetEntries(
    const auth::Principal&, const haven::v1::GetEntriesRequest& request,
    haven::v1::GetEntriesResponse* response) {
  uint64_t count = request.count() == 0 ? 100 : request.count();
  if (count > kPage) {
    return absl::InvalidArgumentError("count must be at most 1000 per call");
  }
  HAVEN_ASSIGN_OR_RETURN(
      auto entries, context_.audit->log()->GetEntries(request.start(), count));
  for (auto& entry : entries) *response->add_entries() = std::move(entry);
  return absl::OkStatus();
}

absl::Status AuditServiceImpl::DoFindEntries(
    const auth::Principal&, const haven::v1::FindEntriesRequest& request,
    haven::v1::FindEntriesResponse* response) {
  uint32_t limit =
      request.limit() == 0 ? 1000 : std::min(request.limit(), 10000u);
  return Scan([&](const haven::v1::IndexedEntry& entry) {
    if (Matches(request, entry.entry())) *response->add_entries() = entry;
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
  if (request.subject_id().empty()) {
    return absl::InvalidArgumentError("subject_id is required");
  }
  const std::string pseudonym = context_.audit->Pseudonym(request.subject_id());
  return Scan([&](const haven::v1::IndexedEntry& entry) {
    if (entry.entry().subject_pseudonym() == pseudonym &&
        InAccessReport(entry.entry().kind())) {
      *response->add_entries() = entry;
    }
    return true;
  });
}

absl::Status AuditServiceImpl::DoGetWitnessed(
    const auth::Principal&, const haven::v1::GetWitnessedRequest& request,
    haven::v1::GetWitnessedResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(auto witnessed,
                         context_.witness->Witnessed(request.agency_id()));
  for (auto& w : witnessed) *response->add_witnessed() = std::move(w);
  return absl::OkStatus();
}

namespace {

// Streams entries from `start`, then new ones as they are appended, until
// the client cancels or its deadline passes. One worker thread per stream
// waits for the log to grow (bounded polling), so gRPC's reactor threads
// never block.
class FollowReactor final
    : public grpc::ServerWriteReactor<haven::v1::FollowResponse> {
 public:
  FollowReactor(const audit::AuditLog* log, uint64_t start)
      : log_(log), next_(start) {
    worker_ = std::thread([this] { Run(); });
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    write_pending_ = false;
    if (!ok) stopped_ = true;
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
  }
  void OnDone() override {
    worker_.join();
    delete this;
  }

 private:
  void Run() {
    while (true) {
      absl::StatusOr<std::vector<haven::v1::IndexedEntry>> page =
          next_ < log_->Size() ? log_->GetEntries(next_, kPage)
                               : std::vector<haven::v1::IndexedEntry>();
      if (!page.ok()) {
        Finish(grpc::Status(grpc::StatusCode::DATA_LOSS,
                            std::string(page.status().message())));
        return;
      }
      for (auto& entry : *page) {
        response_.Clear();
        *response_.mutable_entry() = std::move(entry);
        {
          absl::MutexLock lock(&mu_);
          if (stopped_) break;
          write_pending_ = true;
        }
        StartWrite(&response_);
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](FollowReactor* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) {
              return !r->write_pending_;
            },
            this));
        if (stopped_) break;
        ++next_;
      }
      absl::MutexLock lock(&mu_);
      if (stopped_) break;
      // Nothing new: wait a little for the log to grow, or for a cancel.
      mu_.AwaitWithTimeout(absl::Condition(&stopped_), absl::Milliseconds(200));
      if (stopped_) break;
    }
    Finish(grpc::Status::OK);
  }

  const audit::AuditLog* const log_;
  uint64_t next_;
  haven::v1::FollowResponse response_;
  absl::Mutex mu_;
  bool write_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

class ErrorWriteReactor final
    : public grpc::ServerWriteReactor<haven::v1::FollowResponse> {
 public:
  explicit ErrorWriteReactor(const absl::Status& status) {
    Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<haven::v1::FollowResponse>* AuditServiceImpl::Follow(
    grpc::CallbackServerContext* call,
    const haven::v1::FollowRequest* request) {
  absl::StatusOr<auth::Principal> principal =
      context_.authenticator->Require(*call, {haven::v1::AUDITOR});
  if (!principal.ok()) return new ErrorWriteReactor(principal.status());
  return new FollowReactor(context_.audit->log(), request->start());
}

}  // namespace haven::server::services
