// One line per event on stderr, for operators and log shippers.
//
// Lines look like
//   2026-11-23T12:00:00.123Z havend safe-harbor node_started
//   local=127.0.0.1:7441
// Callers pass ids, counts, addresses and status codes only, never record
// content, keys, tokens or subject ids. Some values still come from peers or
// error messages, so a line is always exactly one line of printable ASCII:
// a value made only of letters, digits and ._:/@+-[] is written bare;
// any other value, and the empty one, is double-quoted with '"' and '\'
// escaped and \n, \r, \t or \xNN for every other byte outside printable
// ASCII. Event names, keys and the agency id are code constants and the
// validated config; a character outside [A-Za-z0-9._-] in them becomes '_'.
// Thread-safe (one write(2) per line).
#ifndef HAVEN_SERVER_NODE_EVENT_LOG_H_
#define HAVEN_SERVER_NODE_EVENT_LOG_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace haven::server::node {

using EventFields = std::vector<std::pair<std::string, std::string>>;

// Sets the agency id shown on every line (once, at start-up).
void SetEventLogAgency(absl::string_view agency_id);

// Writes one event line: `event` is a snake_case name.
void LogEvent(absl::string_view event, const EventFields& fields = {});

}  // namespace haven::server::node

#endif  // HAVEN_SERVER_NODE_EVENT_LOG_H_
