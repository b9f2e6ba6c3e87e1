#include "server/vault/record_desk.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "server/node/event_log.h"

namespace haven::server::vault {
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

absl::Status RecordDesk::CommitWith(const std::string& principal,
                                    absl::string_view subject_id,
                                    AuditEntry entry,
                                    storage::WriteBatch state) const {
  audit::Action action;
  action.entries.push_back(
      audit_->Stamped(std::move(entry), principal, subject_id));
  action.state = std::move(state);
  return audit_->Commit(std::move(action)).status();
}

absl::StatusOr<std::string> RecordDesk::CreateSubject(
    const std::string& principal, const std::string& case_reference) {
  if (case_reference.empty()) {
    return vault_->CreateSubject(
        [&](storage::WriteBatch state, const std::string& id) {
          AuditEntry entry = Entry(haven::v1::RECORD_WRITTEN);
          entry.set_detail("subject created");
          return CommitWith(principal, id, std::move(entry), std::move(state));
        });
  }
  HAVEN_RETURN_IF_ERROR(CaseReferences::Check(case_reference));
  if (references_ == nullptr) {
    return absl::FailedPreconditionError("this node keeps no case references");
  }
  absl::MutexLock lock(&references_->mutex());
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> taken,
                         references_->Find(case_reference));
  if (taken.has_value()) {
    return absl::AlreadyExistsError(
        "a subject with this case reference already exists");
  }
  return vault_->CreateSubject(
      [&](storage::WriteBatch state, const std::string& id) {
        references_->Add(case_reference, id, &state);
        AuditEntry entry = Entry(haven::v1::RECORD_WRITTEN);
        entry.set_detail("subject created, with a case reference");
        return CommitWith(principal, id, std::move(entry), std::move(state));
      });
}

absl::StatusOr<std::string> RecordDesk::FindSubject(
    const std::string& principal, const std::string& case_reference) {
  HAVEN_RETURN_IF_ERROR(CaseReferences::Check(case_reference));
  if (references_ == nullptr) {
    return absl::FailedPreconditionError("this node keeps no case references");
  }
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> subject_id,
                         references_->Find(case_reference));
  if (!subject_id.has_value()) {
    return absl::NotFoundError("no subject has this case reference");
  }
  AuditEntry entry = Entry(haven::v1::RECORD_READ);
  entry.set_detail("found by case reference");
  HAVEN_RETURN_IF_ERROR(audit_->Record(entry, principal, *subject_id).status());
  return *subject_id;
}

absl::StatusOr<RecordVault::PutResult> RecordDesk::Put(
    const std::string& principal, const std::string& subject_id,
    const std::string& record_id,
    const google::protobuf::RepeatedPtrField<haven::v1::Field>& fields) {
  return vault_->Put(
      subject_id, record_id, fields,
      [&](storage::WriteBatch state, const RecordVault::PutResult& put) {
        AuditEntry entry = Entry(haven::v1::RECORD_WRITTEN);
        AddCategories(fields, &entry);
        entry.set_detail(absl::StrCat(
            put.version == 1 ? "record created" : "record replaced",
            ", version ", put.version));
        return CommitWith(principal, subject_id, std::move(entry),
                          std::move(state));
      });
}

absl::StatusOr<haven::v1::Record> RecordDesk::Get(
    const std::string& principal, const std::string& subject_id,
    const std::string& record_id) {
  HAVEN_ASSIGN_OR_RETURN(haven::v1::Record record,
                         vault_->Get(subject_id, record_id));
  AuditEntry entry = Entry(haven::v1::RECORD_READ);
  AddCategories(record.fields(), &entry);
  HAVEN_RETURN_IF_ERROR(audit_->Record(entry, principal, subject_id).status());
  return record;
}

absl::StatusOr<std::vector<haven::v1::Record>> RecordDesk::List(
    const std::string& principal, const std::string& subject_id) {
  HAVEN_ASSIGN_OR_RETURN(auto records, vault_->List(subject_id));
  AuditEntry entry = Entry(haven::v1::RECORD_READ);
  entry.set_detail(absl::StrCat("list, ", records.size(), " records"));
  for (const auto& record : records) AddCategories(record.fields(), &entry);
  HAVEN_RETURN_IF_ERROR(audit_->Record(entry, principal, subject_id).status());
  return records;
}

absl::StatusOr<uint64_t> RecordDesk::Erase(const std::string& principal,
                                           const std::string& subject_id,
                                           const std::string& reason) {
  HAVEN_RETURN_IF_ERROR(CheckPlainText(reason, "reason",
                                       limits::kMaxReasonBytes,
                                       /*required=*/true));
  return vault_->Erase(
      subject_id, [&](storage::WriteBatch state, uint64_t records) {
        if (references_ != nullptr) {
          HAVEN_RETURN_IF_ERROR(references_->Remove(subject_id, &state));
        }
        AuditEntry entry = Entry(haven::v1::SUBJECT_ERASED);
        entry.set_justification(reason);
        entry.set_detail(absl::StrCat(records, " records erased"));
        return CommitWith(principal, subject_id, std::move(entry),
                          std::move(state));
      });
}

absl::StatusOr<RecordDesk::Rotated> RecordDesk::RotateKek(
    const std::string& principal) {
  const uint32_t from = vault_->kek_status().active_version;
  HAVEN_ASSIGN_OR_RETURN(
      uint64_t rewrapped,
      vault_->RotateKek([&](storage::WriteBatch state, uint32_t to) {
        AuditEntry entry = Entry(haven::v1::KEY_ROTATED);
        entry.set_detail(absl::StrCat("rotate kek v", from, " -> v", to));
        return CommitWith(principal, "", std::move(entry), std::move(state));
      }));
  Rotated rotated{vault_->kek_status().active_version, rewrapped};
  node::LogEvent("kek_rotated",
                 {{"by", principal},
                  {"active", absl::StrCat(rotated.active_version)},
                  {"rewrapped", absl::StrCat(rewrapped)}});
  return rotated;
}

absl::Status RecordDesk::RetireKek(const std::string& principal,
                                   uint32_t version) {
  HAVEN_RETURN_IF_ERROR(
      vault_->RetireKek(version, [&](storage::WriteBatch state) {
        AuditEntry entry = Entry(haven::v1::KEY_ROTATED);
        entry.set_detail(absl::StrCat("retire kek v", version));
        return CommitWith(principal, "", std::move(entry), std::move(state));
      }));
  node::LogEvent("kek_retired",
                 {{"by", principal}, {"version", absl::StrCat(version)}});
  return absl::OkStatus();
}

}  // namespace haven::server::vault
