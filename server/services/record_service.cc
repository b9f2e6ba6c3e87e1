#include "server/services/record_service.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "haven/base/status_macros.h"
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

}  // namespace

absl::Status RecordServiceImpl::DoCreateSubject(
    const auth::Principal& who, const haven::v1::CreateSubjectRequest&,
    haven::v1::CreateSubjectResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(std::string subject_id,
                         context_.vault->CreateSubject());
  // The subject has no data yet; logging after creation keeps the id out
  // of an entry for a subject that would otherwise not exist.
  AuditEntry entry = Entry(haven::v1::RECORD_WRITTEN);
  entry.set_detail("subject created");
  HAVEN_RETURN_IF_ERROR(
      context_.audit->Record(entry, who.name, subject_id).status());
  response->set_subject_id(subject_id);
  return absl::OkStatus();
}

absl::Status RecordServiceImpl::DoPutRecord(
    const auth::Principal& who, const haven::v1::PutRecordRequest& request,
    haven::v1::PutRecordResponse* response) {
  AuditEntry entry = Entry(haven::v1::RECORD_WRITTEN);
  AddCategories(request.fields(), &entry);
  entry.set_detail(request.record_id().empty() ? "record created"
                                               : "record replaced");
  HAVEN_RETURN_IF_ERROR(
      context_.audit->Record(entry, who.name, request.subject_id()).status());
  HAVEN_ASSIGN_OR_RETURN(
      auto result, context_.vault->Put(request.subject_id(),
                                       request.record_id(), request.fields()));
  response->set_record_id(result.record_id);
  response->set_version(result.version);
  return absl::OkStatus();
}

absl::Status RecordServiceImpl::DoGetRecord(
    const auth::Principal& who, const haven::v1::GetRecordRequest& request,
    haven::v1::GetRecordResponse* response) {
  AuditEntry entry = Entry(haven::v1::RECORD_READ);
  HAVEN_RETURN_IF_ERROR(
      context_.audit->Record(entry, who.name, request.subject_id()).status());
  HAVEN_ASSIGN_OR_RETURN(
      *response->mutable_record(),
      context_.vault->Get(request.subject_id(), request.record_id()));
  return absl::OkStatus();
}

absl::Status RecordServiceImpl::DoListRecords(
    const auth::Principal& who, const haven::v1::ListRecordsRequest& request,
    haven::v1::ListRecordsResponse* response) {
  AuditEntry entry = Entry(haven::v1::RECORD_READ);
  entry.set_detail("list");
  HAVEN_RETURN_IF_ERROR(
      context_.audit->Record(entry, who.name, request.subject_id()).status());
  HAVEN_ASSIGN_OR_RETURN(auto records,
                         context_.vault->List(request.subject_id()));
  for (auto& record : records) *response->add_records() = std::move(record);
  return absl::OkStatus();
}

absl::Status RecordServiceImpl::DoEraseSubject(
    const auth::Principal& who, const haven::v1::EraseSubjectRequest& request,
    haven::v1::EraseSubjectResponse* response) {
  if (request.reason().empty()) {
    return absl::InvalidArgumentError(
        "reason is required (it goes to the audit log; no personal data)");
  }
  if (request.reason().size() > 500) {
    return absl::InvalidArgumentError("reason must be at most 500 characters");
  }
  AuditEntry entry = Entry(haven::v1::SUBJECT_ERASED);
  entry.set_justification(request.reason());
  HAVEN_RETURN_IF_ERROR(
      context_.audit->Record(entry, who.name, request.subject_id()).status());
  HAVEN_ASSIGN_OR_RETURN(uint64_t erased,
                         context_.vault->Erase(request.subject_id()));
  response->set_records_erased(erased);
  return absl::OkStatus();
}

}  // namespace haven::server::services
