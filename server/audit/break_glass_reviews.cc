#include "server/audit/break_glass_reviews.h"

#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "haven/base/limits.h"
#include "haven/base/page_budget.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"

namespace haven::server::audit {

absl::Status ScanLog(
    const AuditLog& log,
    const std::function<bool(const haven::v1::IndexedEntry&)>& visit,
    uint64_t start) {
  uint64_t size = log.Size();
  // Reads are bounded by bytes too: each continues after the last entry
  // the one before returned.
  while (start < size) {
    HAVEN_ASSIGN_OR_RETURN(
        auto page, log.GetEntries(start, limits::kMaxEntriesPerRead));
    if (page.empty()) break;
    start += page.size();
    for (const auto& entry : page) {
      if (!visit(entry)) return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

bool IsBreakGlassDecision(const haven::v1::AuditEntry& e) {
  return e.kind() == haven::v1::BREAK_GLASS ||
         (e.break_glass() && (e.kind() == haven::v1::DISCLOSURE ||
                              e.kind() == haven::v1::REQUEST_REFUSED));
}

absl::StatusOr<std::vector<haven::v1::BreakGlassReview>>
BreakGlassReviews::List(bool include_signed_off) const {
  std::map<uint64_t, haven::v1::BreakGlassReview> reviews;
  HAVEN_RETURN_IF_ERROR(
      ScanLog(*audit_->log(), [&](const haven::v1::IndexedEntry& entry) {
        const haven::v1::AuditEntry& e = entry.entry();
        if (IsBreakGlassDecision(e)) {
          *reviews[entry.index()].mutable_decision() = entry;
        } else if (e.kind() == haven::v1::BREAK_GLASS_REVIEWED) {
          auto it = reviews.find(e.reviewed_index());
          if (it != reviews.end()) *it->second.mutable_sign_off() = entry;
        }
        return true;
      }));
  std::vector<haven::v1::BreakGlassReview> out;
  PageBudget budget(limits::kMaxEntriesPerRead, limits::kMaxReadBytes);
  for (auto& [index, review] : reviews) {
    if (review.has_sign_off() && !include_signed_off) continue;
    if (!budget.Take(review.ByteSizeLong())) break;
    out.push_back(std::move(review));
  }
  return out;
}

absl::StatusOr<uint64_t> BreakGlassReviews::SignOff(
    const std::string& principal, uint64_t index, const std::string& note) {
  HAVEN_RETURN_IF_ERROR(CheckPlainText(note, "note",
                                       limits::kMaxJustificationBytes,
                                       /*required=*/true));
  if (note.size() < kMinNoteChars) {
    return absl::InvalidArgumentError(
        absl::StrCat("note must say what the review found (at least ",
                     kMinNoteChars, " characters)"));
  }
  absl::MutexLock lock(&sign_off_mu_);
  const AuditLog& log = *audit_->log();
  if (index >= log.Size()) {
    return absl::NotFoundError(absl::StrCat("the log has no entry ", index));
  }
  HAVEN_ASSIGN_OR_RETURN(auto page, log.GetEntries(index, 1));
  if (page.empty() || !IsBreakGlassDecision(page[0].entry())) {
    return absl::FailedPreconditionError(
        absl::StrCat("entry ", index, " is not a break-glass decision"));
  }
  std::optional<uint64_t> signed_off;
  HAVEN_RETURN_IF_ERROR(ScanLog(
      log,
      [&](const haven::v1::IndexedEntry& entry) {
        if (entry.entry().kind() == haven::v1::BREAK_GLASS_REVIEWED &&
            entry.entry().reviewed_index() == index) {
          signed_off = entry.index();
          return false;
        }
        return true;
      },
      index + 1));
  if (signed_off.has_value()) {
    return absl::AlreadyExistsError(absl::StrCat(
        "entry ", index, " was signed off in entry ", *signed_off));
  }
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::BREAK_GLASS_REVIEWED);
  entry.set_reviewed_index(index);
  entry.set_justification(note);
  entry.set_detail(absl::StrCat("sign-off of entry ", index));
  return audit_->Record(std::move(entry), principal, "");
}

}  // namespace haven::server::audit
