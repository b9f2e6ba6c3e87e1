// How havenctl prints audit entries for people: times, category lists,
// what was withheld and why, and the block form of a disclosure decision.
// Shared by the audit, report and review commands. Pure; thread-safe.
#ifndef HAVEN_CLIENT_CLI_ENTRY_TEXT_H_
#define HAVEN_CLIENT_CLI_ENTRY_TEXT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "client/cli/command.h"
#include "client/cli/json.h"
#include "google/protobuf/repeated_field.h"
#include "haven/v1/audit.pb.h"

namespace haven::client::cli {

// "2026-11-23T13:05:00Z".
std::string FormatTime(int64_t unix_nanos);

std::vector<std::string> CategoryNames(
    const google::protobuf::RepeatedField<int>& categories);

// "MEDICAL (NO_CONSENT), ..." and its JSON array form.
std::string WithheldText(const haven::v1::AuditEntry& entry);
std::string WithheldJson(const haven::v1::AuditEntry& entry);

// The members the JSON forms of an entry share, in this order: "purpose",
// "asked", "given", "withheld"; and "break_glass", "justification",
// "request_id".
void AddAskedAndGiven(const haven::v1::AuditEntry& e, JsonObject* out);
void AddJustification(const haven::v1::AuditEntry& e, JsonObject* out);

// "disclosure", "break-glass disclosure", "refused request", or the kind.
std::string ReportKind(const haven::v1::AuditEntry& e);

// One entry on one line (index, time, kind, agency, principal, purpose,
// categories given and withheld), or one JSON object with --json; flushed
// so that a follower sees it at once.
void PrintEntry(const Invocation& in, const haven::v1::IndexedEntry& indexed);

// Disclosures and refusals, one block each (or a JSON array); `none` when
// there are none.
int PrintDecisions(
    const Invocation& in,
    const google::protobuf::RepeatedPtrField<haven::v1::IndexedEntry>& entries,
    const char* none);

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_ENTRY_TEXT_H_
