// One line per event on stderr, for operators and log shippers.
//
// Lines look like
//   2026-11-23T12:00:00.123Z havend safe-harbor node_started
//   local=127.0.0.1:7441
// Values are written as given: callers pass ids, counts, addresses and
// status codes only, never record content, keys, tokens or subject ids.
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
