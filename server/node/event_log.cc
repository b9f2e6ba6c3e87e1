#include "server/node/event_log.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "haven/base/hex.h"
#include "haven/base/quote.h"

namespace haven::server::node {
namespace {

absl::Mutex agency_mu;
std::string& Agency() {
  static auto* agency = new std::string("-");
  return *agency;
}

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

// Characters a value may hold and still be written bare: enough for ids,
// counts, addresses, versions and status codes, and none that a reader
// splits on (space, '=', '"', '\\') or that a terminal acts on.
bool IsPlain(char c) {
  switch (c) {
    case '.':
    case '_':
    case ':':
    case '/':
    case '@':
    case '+':
    case '-':
    case '[':
    case ']':
      return true;
    default:
      return IsAlnum(c);
  }
}

// The agency, event names and keys come from code and the validated config,
// but a mistake there must not break a line either: anything outside
// [A-Za-z0-9._-] becomes '_'.
std::string Word(absl::string_view word) {
  if (word.empty()) return "_";
  std::string out(word);
  for (char& c : out) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != '-') c = '_';
  }
  return out;
}

// Values may come from peers (a revocation notice's `change`) or from error
// messages that quote them, so a value is written bare only if every
// character is plain; otherwise it is double-quoted with '"' and '\\'
// escaped and every byte outside printable ASCII escaped, so a value can
// neither end the line, start a forged one, hide text from a terminal nor
// fake a field. Non-ASCII bytes are escaped too: some viewers break lines on
// U+0085 and U+2028.
std::string Value(absl::string_view value) {
  bool plain = !value.empty();
  for (char c : value) plain = plain && IsPlain(c);
  if (plain) return std::string(value);
  return Quote(
      value, [](unsigned char byte) { return byte < 0x20 || byte >= 0x7f; },
      [](unsigned char byte, std::string* out) {
        *out += "\\x" + LowerHex(absl::string_view(
                             reinterpret_cast<const char*>(&byte), 1));
      });
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
                   " havend ", Word(agency), " ", Word(event));
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&line, " ", Word(key), "=", Value(value));
  }
  line += '\n';
  // One write keeps concurrent lines whole.
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace haven::server::node
