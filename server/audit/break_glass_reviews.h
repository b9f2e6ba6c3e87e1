// Break-glass review: every decision made under an emergency rule waits
// for an auditor's sign-off (a BREAK_GLASS_REVIEWED entry naming it). This
// module lists the decisions with their sign-offs and records a sign-off,
// checking that the entry is a break-glass decision not yet signed off.
//
// Also the one walk over the whole log (ScanLog) that the audit queries
// share. Thread-safe: sign-offs are serialised so that "not yet signed off"
// and the sign-off entry are one step.
#ifndef HAVEN_SERVER_AUDIT_BREAK_GLASS_REVIEWS_H_
#define HAVEN_SERVER_AUDIT_BREAK_GLASS_REVIEWS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "haven/v1/audit.pb.h"
#include "server/audit/audit_log.h"
#include "server/audit/audit_recorder.h"

namespace haven::server::audit {

// Calls `visit` for every entry from index `start` in index order until it
// returns false. Reads in pages bounded by count and bytes.
absl::Status ScanLog(
    const AuditLog& log,
    const std::function<bool(const haven::v1::IndexedEntry&)>& visit,
    uint64_t start = 0);

// A decision made under an emergency rule, which an auditor must review.
bool IsBreakGlassDecision(const haven::v1::AuditEntry& e);

class BreakGlassReviews {
 public:
  // A sign-off note must say what the review found.
  static constexpr size_t kMinNoteChars = 10;

  // Borrowed; must outlive this.
  explicit BreakGlassReviews(const AuditRecorder* audit) : audit_(audit) {}

  // Every break-glass decision (with its sign-off, if any) in index order,
  // bounded like every read; signed-off ones only if asked.
  absl::StatusOr<std::vector<haven::v1::BreakGlassReview>> List(
      bool include_signed_off) const;

  // Records `principal`'s sign-off of entry `index` and returns the
  // sign-off's index. INVALID_ARGUMENT for a note that is too short or not
  // plain text; NOT_FOUND for an index past the log; FAILED_PRECONDITION if
  // the entry is not a break-glass decision; ALREADY_EXISTS if it was
  // signed off before.
  absl::StatusOr<uint64_t> SignOff(const std::string& principal,
                                   uint64_t index, const std::string& note);

 private:
  const AuditRecorder* const audit_;
  absl::Mutex sign_off_mu_;
};

}  // namespace haven::server::audit

#endif  // HAVEN_SERVER_AUDIT_BREAK_GLASS_REVIEWS_H_
