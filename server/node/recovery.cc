#include "server/node/recovery.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "haven/base/status_macros.h"

namespace haven::server::node {
namespace {

constexpr uint64_t kChunk = 1000;

// Entries [start, end) (end <= log.Size()), in as many reads as the log's
// byte bound per read needs.
absl::StatusOr<std::vector<haven::v1::IndexedEntry>> ReadRange(
    const audit::AuditLog& log, uint64_t start, uint64_t end) {
  std::vector<haven::v1::IndexedEntry> out;
  while (start + out.size() < end) {
    const uint64_t next = start + out.size();
    HAVEN_ASSIGN_OR_RETURN(std::vector<haven::v1::IndexedEntry> part,
                           log.GetEntries(next, end - next));
    if (part.empty()) {
      return absl::DataLossError(
          absl::StrCat("audit log entry ", next, " could not be read"));
    }
    for (auto& entry : part) out.push_back(std::move(entry));
  }
  return out;
}

bool IsConsentChange(haven::v1::EntryKind kind) {
  switch (kind) {
    case haven::v1::CONSENT_RECORDED:
    case haven::v1::CONSENT_AMENDED:
    case haven::v1::CONSENT_PAUSED:
    case haven::v1::CONSENT_RESUMED:
    case haven::v1::CONSENT_REVOKED:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::Status CheckLogTail(const audit::AuditLog& log,
                          const consent::ConsentRegistry& consents,
                          const std::string& agency_id,
                          const Clock& clock,
                          exchange::ReplayGuard* replay) {
  const uint64_t size = log.Size();
  const uint64_t checked_from =
      size > kTailEntriesChecked ? size - kTailEntriesChecked : 0;
  const int64_t remember_since =
      clock.NowUnixNanos() - absl::ToInt64Nanoseconds(replay->memory());
  // Voided ranges, from WRITES_VOIDED entries (each follows what it voids,
  // so scanning backwards meets it first).
  std::vector<std::pair<uint64_t, uint64_t>> voided;
  auto is_voided = [&](uint64_t index) {
    for (const auto& [first, end] : voided) {
      if (index >= first && index < end) return true;
    }
    return false;
  };
  std::vector<std::pair<std::string, int64_t>> seen_requests;
  uint64_t end = size;
  bool done = false;
  while (end > 0 && !done) {
    const uint64_t start = end > kChunk ? end - kChunk : 0;
    HAVEN_ASSIGN_OR_RETURN(std::vector<haven::v1::IndexedEntry> entries,
                           ReadRange(log, start, end));
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
      const uint64_t index = it->index();
      const haven::v1::AuditEntry& entry = it->entry();
      if (index < checked_from && entry.time_unix_nanos() < remember_since) {
        done = true;
        break;
      }
      if (entry.kind() == haven::v1::WRITES_VOIDED) {
        voided.emplace_back(entry.voided().first(), entry.voided().end());
        continue;
      }
      if (is_voided(index)) continue;
      if (index >= checked_from && IsConsentChange(entry.kind()) &&
          entry.consent_version() > 0 && !entry.consent_ids().empty() &&
          !consents.HasVersion(entry.consent_ids(0), entry.consent_version())) {
        return absl::DataLossError(absl::StrCat(
            "audit entry ", index, " records ",
            haven::v1::EntryKind_Name(entry.kind()), " of consent ",
            entry.consent_ids(0), " (version ", entry.consent_version(),
            "), but the consent store does not hold that version: the "
            "store was rolled back or altered behind the log. Nothing is "
            "served: restore the data dir from a backup"));
      }
      const bool holder_decision = entry.kind() == haven::v1::DISCLOSURE ||
                                   entry.kind() == haven::v1::REQUEST_REFUSED;
      if (holder_decision && entry.agency_id() != agency_id &&
          !entry.request_id().empty() &&
          entry.time_unix_nanos() >= remember_since) {
        seen_requests.emplace_back(entry.request_id(), entry.time_unix_nanos());
      }
    }
    end = start;
  }
  // Oldest first, as the guard forgets them in that order.
  for (auto it = seen_requests.rbegin(); it != seen_requests.rend(); ++it) {
    replay->Remember(it->first, absl::FromUnixNanos(it->second));
  }
  return absl::OkStatus();
}

}  // namespace haven::server::node
