#include "server/services/record_service.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "server/audit/audit_recorder.h"
#include "server/vault/record_vault.h"

namespace haven::server::services {
namespace {

using haven::v1::AuditEntry;

AuditEntry Entry(haven::v1::EntryKind kind) {
  AuditEntry entry;
  entry.set_kind(kind);
  return entry;
}

// Categories named in `fields`, for the log (never the values).
void AddCategories(
    const google::protobuf::RepeatedPtrField<haven::v1::Field>& fields,
    AuditEntry* entry) {
  std::set<int> seen;
  for (const auto& field : fields) {
    if (seen.insert(field.category()).second)
      entry->add_given(field.category());
  }
}

// Commits `state` with `entry` (stamped for `who` and the subject).
absl::Status CommitWith(const audit::AuditRecorder& audit,
                        const auth::Principal& who,
                        absl::string_view subject_id, AuditEntry entry,
                        storage::WriteBatch state) {
  audit::Action action;
  action.entries.push_back(
      audit.Stamped(std::move(entry), who.name, subject_id));
  action.state = std::move(state);
  return audit.Commit(std::move(action)).status();
}

}  // namespace

// A call refused for what it asks (bad input, unknown subject) writes no
// entry; a change is committed with its entry; a read's entry is durable
// before any content leaves.

absl::Status RecordServiceImpl::DoCreateSubject(
    const auth::Principal& who, const haven::v1::CreateSubjectRequest&,
    haven::v1::CreateSubjectResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      std::string subject_id,
      context_.vault->CreateSubject(
          [&](storage::WriteBatch state, const std::string& id) {
            AuditEntry entry = Entry(haven::v1::RECORD_WRITTEN);
            entry.set_detail("subject created");
            return CommitWith(*context_.audit, who, id, std::move(entry),
                              std::move(state));
          }));
  response->set_subject_id(subject_id);
  return absl::OkStatus();
}

absl::Status RecordServiceImpl::DoPutRecord(
    const auth::Principal& who, const haven::v1::PutRecordRequest& request,
    haven::v1::PutRecordResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      auto result,
      context_.vault->Put(
          request.subject_id(), request.record_id(), request.fields(),
          [&](storage::WriteBatch state,
              const vault::RecordVault::PutResult& put) {
            AuditEntry entry = Entry(haven::v1::RECORD_WRITTEN);
            AddCategories(request.fields(), &entry);
            entry.set_detail(absl::StrCat(
                put.version == 1 ? "record created" : "record replaced",
                ", version ", put.version));
            return CommitWith(*context_.audit, who, request.subject_id(),
                              std::move(entry), std::move(state));
          }));
  response->set_record_id(result.record_id);
  response->set_version(result.version);
  return absl::OkStatus();
}

absl::Status RecordServiceImpl::DoGetRecord(
    const auth::Principal& who, const haven::v1::GetRecordRequest& request,
    haven::v1::GetRecordResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      haven::v1::Record record,
      context_.vault->Get(request.subject_id(), request.record_id()));
  AuditEntry entry = Entry(haven::v1::RECORD_READ);
  AddCategories(record.fields(), &entry);
  HAVEN_RETURN_IF_ERROR(
      context_.audit->Record(entry, who.name, request.subject_id()).status());
  *response->mutable_record() = std::move(record);
  return absl::OkStatus();
}

absl::Status RecordServiceImpl::DoListRecords(
    const auth::Principal& who, const haven::v1::ListRecordsRequest& request,
    haven::v1::ListRecordsResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(auto records,
                         context_.vault->List(request.subject_id()));
  AuditEntry entry = Entry(haven::v1::RECORD_READ);
  entry.set_detail(absl::StrCat("list, ", records.size(), " records"));
  for (const auto& record : records) AddCategories(record.fields(), &entry);
  HAVEN_RETURN_IF_ERROR(
      context_.audit->Record(entry, who.name, request.subject_id()).status());
  for (auto& record : records) *response->add_records() = std::move(record);
  return absl::OkStatus();
}

absl::Status RecordServiceImpl::DoEraseSubject(
    const auth::Principal& who, const haven::v1::EraseSubjectRequest& request,
    haven::v1::EraseSubjectResponse* response) {
  HAVEN_RETURN_IF_ERROR(CheckPlainText(request.reason(), "reason",
                                       limits::kMaxReasonBytes,
                                       /*required=*/true));
  HAVEN_ASSIGN_OR_RETURN(
      uint64_t erased,
      context_.vault->Erase(request.subject_id(), [&](storage::WriteBatch state,
                                                      uint64_t records) {
        AuditEntry entry = Entry(haven::v1::SUBJECT_ERASED);
        entry.set_justification(request.reason());
        entry.set_detail(absl::StrCat(records, " records erased"));
        return CommitWith(*context_.audit, who, request.subject_id(),
                          std::move(entry), std::move(state));
      }));
  response->set_records_erased(erased);
  return absl::OkStatus();
}

}  // namespace haven::server::services
