// RecordDesk: this agency's own staff at the record vault, every act on the
// audit log. A change is committed together with its entry (RECORD_WRITTEN,
// SUBJECT_ERASED, KEY_ROTATED) in one write; a read's RECORD_READ entry is
// durable before any content is returned. A call refused for what it asks
// (bad input, unknown subject) writes no entry. Entries name categories,
// never values.
//
// Thread-safe as the vault and the recorder are. Borrows both; they must
// outlive it.
#ifndef HAVEN_SERVER_VAULT_RECORD_DESK_H_
#define HAVEN_SERVER_VAULT_RECORD_DESK_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/audit/audit_recorder.h"
#include "server/vault/case_references.h"
#include "server/vault/record_vault.h"

namespace haven::server::vault {

class RecordDesk {
 public:
  // `references` may be null (no case references: CreateSubject with one
  // and FindSubject get FAILED_PRECONDITION).
  RecordDesk(RecordVault* vault, const audit::AuditRecorder* audit,
             const CaseReferences* references = nullptr)
      : vault_(vault), audit_(audit), references_(references) {}

  // Errors as RecordVault's, or the commit's. With a `case_reference`
  // (CaseReferences::Check), the subject and its reference are committed
  // together; ALREADY_EXISTS if another subject has it.
  absl::StatusOr<std::string> CreateSubject(
      const std::string& principal, const std::string& case_reference = "");
  // The subject with `case_reference`; NOT_FOUND if none. Logged
  // (RECORD_READ, "found by case reference") when found.
  absl::StatusOr<std::string> FindSubject(const std::string& principal,
                                          const std::string& case_reference);
  absl::StatusOr<RecordVault::PutResult> Put(
      const std::string& principal, const std::string& subject_id,
      const std::string& record_id,
      const google::protobuf::RepeatedPtrField<haven::v1::Field>& fields);
  absl::StatusOr<haven::v1::Record> Get(const std::string& principal,
                                        const std::string& subject_id,
                                        const std::string& record_id);
  absl::StatusOr<std::vector<haven::v1::Record>> List(
      const std::string& principal, const std::string& subject_id);
  // `reason` is required plain text (INVALID_ARGUMENT otherwise); returns
  // how many records became unreadable. The subject's case reference goes
  // in the same commit.
  absl::StatusOr<uint64_t> Erase(const std::string& principal,
                                 const std::string& subject_id,
                                 const std::string& reason);

  struct Rotated {
    uint32_t active_version = 0;
    uint64_t rewrapped = 0;
  };
  // RecordVault::RotateKek, committed with its KEY_ROTATED entry; a
  // kek_rotated event follows.
  absl::StatusOr<Rotated> RotateKek(const std::string& principal);
  // RecordVault::RetireKek, committed with its KEY_ROTATED entry; a
  // kek_retired event follows.
  absl::Status RetireKek(const std::string& principal, uint32_t version);

 private:
  // Commits `state` with `entry`, stamped for `principal` and the subject.
  absl::Status CommitWith(const std::string& principal,
                          absl::string_view subject_id,
                          haven::v1::AuditEntry entry,
                          storage::WriteBatch state) const;

  RecordVault* const vault_;
  const audit::AuditRecorder* const audit_;
  const CaseReferences* const references_;
};

}  // namespace haven::server::vault

#endif  // HAVEN_SERVER_VAULT_RECORD_DESK_H_
