// AuditRecorder: how the node's modules write to the audit log. Fills in
// the time, the acting agency and principal, and the subject's keyed
// pseudonym (never the subject id; scoped to the agency for entries about
// another agency's request, see pseudonym.h), then commits durably: an
// entry alone
// (Record), or an action's state changes with the entries that record them
// in one write (Commit). If the commit fails, nothing of it happened
// (UNAVAILABLE). Thread-safe.
#ifndef HAVEN_SERVER_AUDIT_AUDIT_RECORDER_H_
#define HAVEN_SERVER_AUDIT_AUDIT_RECORDER_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "haven/v1/audit.pb.h"
#include "haven/base/clock.h"
#include "server/audit/action.h"
#include "server/audit/audit_log.h"
#include "server/audit/pseudonym.h"
#include "server/crypto/secret_bytes.h"

namespace haven::server::audit {

class AuditRecorder {
 public:
  // All borrowed; must outlive the recorder.
  AuditRecorder(std::string agency_id, AuditLog* log,
                const crypto::SecretBytes* pseudonym_key,
                const Clock* clock)
      : agency_id_(std::move(agency_id)),
        log_(log),
        pseudonym_key_(pseudonym_key),
        clock_(clock) {}

  // The node-wide pseudonym of `subject_id`.
  std::string Pseudonym(absl::string_view subject_id) const {
    return SubjectPseudonym(*pseudonym_key_, subject_id);
  }
  // How entries naming `agency_id` name that subject: the node-wide
  // pseudonym for this node's own entries, scoped for any other agency.
  std::string PseudonymFor(absl::string_view agency_id,
                           absl::string_view subject_pseudonym) const {
    if (agency_id.empty() || agency_id == agency_id_) {
      return std::string(subject_pseudonym);
    }
    return ScopedPseudonym(*pseudonym_key_, agency_id, subject_pseudonym);
  }
  // Whether `entry` is about the subject whose node-wide pseudonym is
  // `subject_pseudonym`, whichever agency it names.
  bool IsAbout(const haven::v1::AuditEntry& entry,
               absl::string_view subject_pseudonym) const {
    return !entry.subject_pseudonym().empty() &&
           entry.subject_pseudonym() ==
               PseudonymFor(entry.agency_id(), subject_pseudonym);
  }
  // How `consent_id` is named to `agency_id` (see pseudonym.h).
  std::string ConsentRef(absl::string_view agency_id,
                         absl::string_view consent_id) const {
    return ConsentReference(*pseudonym_key_, agency_id, consent_id);
  }

  // `entry` as it is logged: `entry.agency_id` defaults to this node's
  // agency; `subject_id` may be empty for entries about no subject.
  haven::v1::AuditEntry Stamped(haven::v1::AuditEntry entry,
                                absl::string_view principal,
                                absl::string_view subject_id) const {
    entry.set_time_unix_nanos(clock_->NowUnixNanos());
    if (entry.agency_id().empty()) entry.set_agency_id(agency_id_);
    entry.set_principal(std::string(principal));
    if (!subject_id.empty()) {
      entry.set_subject_pseudonym(
          PseudonymFor(entry.agency_id(), Pseudonym(subject_id)));
    }
    return entry;
  }

  // Appends Stamped(entry, ...); `done` gets its index once it is durable,
  // on the log's commit thread (see AuditLog::AppendDone).
  void RecordAsync(haven::v1::AuditEntry entry, absl::string_view principal,
                   absl::string_view subject_id,
                   AuditLog::AppendDone done) const {
    log_->AppendAsync(Stamped(std::move(entry), principal, subject_id),
                      std::move(done));
  }
  // As RecordAsync, waiting for the index.
  absl::StatusOr<uint64_t> Record(haven::v1::AuditEntry entry,
                                  absl::string_view principal,
                                  absl::string_view subject_id) const {
    return log_->Append(Stamped(std::move(entry), principal, subject_id));
  }

  // Commits `action` (entries already Stamped) and waits; the index of its
  // first entry, or UNAVAILABLE with nothing done.
  absl::StatusOr<uint64_t> Commit(Action action) const {
    return log_->Commit(std::move(action));
  }
  void CommitAsync(Action action, AuditLog::AppendDone done) const {
    log_->CommitAsync(std::move(action), std::move(done));
  }

  AuditLog* log() const { return log_; }
  const Clock* clock() const { return clock_; }

 private:
  const std::string agency_id_;
  AuditLog* const log_;
  const crypto::SecretBytes* const pseudonym_key_;
  const Clock* const clock_;
};

}  // namespace haven::server::audit

#endif  // HAVEN_SERVER_AUDIT_AUDIT_RECORDER_H_
