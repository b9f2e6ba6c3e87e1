#include "server/node/event_log.h"

#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace haven::server::node {
namespace {

absl::Mutex agency_mu;
std::string& Agency() {
  static auto* agency = new std::string("-");
  return *agency;
}

// Quotes values with spaces so lines stay machine-splittable.
std::string Quote(absl::string_view value) {
  if (!absl::StrContains(value, ' ') && !value.empty()) {
    return std::string(value);
  }
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += (c == '\n') ? ' ' : c;
  }
  return out + "\"";
}

}  // namespace

void SetEventLogAgency(absl::string_view agency_id) {
  absl::MutexLock lock(&agency_mu);
  Agency() = std::string(agency_id);
}

void LogEvent(absl::string_view event, const EventFields& fields) {
  std::string agency;
  {
    absl::MutexLock lock(&agency_mu);
    agency = Agency();
  }
  std::string line =
      absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                    absl::UTCTimeZone()),
                   " havend ", agency, " ", event);
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&line, " ", key, "=", Quote(value));
  }
  line += '\n';
  // One write keeps concurrent lines whole.
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace haven::server::node
