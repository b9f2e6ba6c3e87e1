#include "server/services/record_service.h"

#include "haven/base/status_macros.h"

namespace haven::server::services {

// Each act and its audit entry belong to the RecordDesk; these are adapters
// from RPCs to it.

absl::Status RecordServiceImpl::DoCreateSubject(
    const auth::Principal& who, const haven::v1::CreateSubjectRequest& request,
    haven::v1::CreateSubjectResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      *response->mutable_subject_id(),
      desk_->CreateSubject(who.name, request.case_reference()));
  return absl::OkStatus();
}

absl::Status RecordServiceImpl::DoFindSubject(
    const auth::Principal& who, const haven::v1::FindSubjectRequest& request,
    haven::v1::FindSubjectResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      *response->mutable_subject_id(),
      desk_->FindSubject(who.name, request.case_reference()));
  return absl::OkStatus();
}

absl::Status RecordServiceImpl::DoPutRecord(
    const auth::Principal& who, const haven::v1::PutRecordRequest& request,
    haven::v1::PutRecordResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(auto result,
                         desk_->Put(who.name, request.subject_id(),
                                    request.record_id(), request.fields()));
  response->set_record_id(result.record_id);
  response->set_version(result.version);
  return absl::OkStatus();
}

absl::Status RecordServiceImpl::DoGetRecord(
    const auth::Principal& who, const haven::v1::GetRecordRequest& request,
    haven::v1::GetRecordResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      *response->mutable_record(),
      desk_->Get(who.name, request.subject_id(), request.record_id()));
  return absl::OkStatus();
}

absl::Status RecordServiceImpl::DoListRecords(
    const auth::Principal& who, const haven::v1::ListRecordsRequest& request,
    haven::v1::ListRecordsResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(auto records,
                         desk_->List(who.name, request.subject_id()));
  for (auto& record : records) *response->add_records() = std::move(record);
  return absl::OkStatus();
}

absl::Status RecordServiceImpl::DoEraseSubject(
    const auth::Principal& who, const haven::v1::EraseSubjectRequest& request,
    haven::v1::EraseSubjectResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      uint64_t erased,
      desk_->Erase(who.name, request.subject_id(), request.reason()));
  response->set_records_erased(erased);
  return absl::OkStatus();
}

}  // namespace haven::server::services
