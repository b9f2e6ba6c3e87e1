// Helpers shared by the consent, exchange and policy commands: enum names
// from the command line, times, and the per-category decision table.
#ifndef HAVEN_CLIENT_CLI_DECISION_OUTPUT_H_
#define HAVEN_CLIENT_CLI_DECISION_OUTPUT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/cli/args.h"
#include "client/cli/command.h"
#include "haven/v1/common.pb.h"
#include "haven/v1/policy.pb.h"

namespace haven::client::cli {

// Enum values by name, upper or lower case ("contact", "LEGAL_SERVICES").
// INVALID_ARGUMENT naming `flag` and the value when unknown.
absl::StatusOr<haven::v1::Category> ParseCategory(const std::string& flag,
                                                  const std::string& name);
absl::StatusOr<haven::v1::Purpose> ParsePurpose(const std::string& flag,
                                                const std::string& name);
absl::StatusOr<haven::v1::Sector> ParseSector(const std::string& flag,
                                              const std::string& name);

// Every value of a repeated --flag (comma-separated values are split too).
absl::StatusOr<std::vector<haven::v1::Category>> ParseCategories(
    const std::string& flag, const std::vector<std::string>& values);
absl::StatusOr<std::vector<haven::v1::Purpose>> ParsePurposes(
    const std::string& flag, const std::vector<std::string>& values);

// What a decision is asked about, from --purpose, one or more --category
// and an optional --justification.
struct Ask {
  haven::v1::Purpose purpose = haven::v1::PURPOSE_UNSPECIFIED;
  std::vector<haven::v1::Category> categories;
  std::string justification;
};
// INVALID_ARGUMENT (a message for UsageError) if a value is unknown or no
// category is given.
absl::StatusOr<Ask> ParseAsk(const Args& args);

// kExitOk if every flag in `flags` has a value, else UsageError naming the
// first that has none.
int RequireFlags(const Args& args, const std::vector<std::string>& flags);

// "2026-11-23 13:05:00Z", or "-" for 0.
std::string FormatUnix(int64_t unix_seconds);

// Prints "havenctl: <message>" and returns kExitUsage.
int UsageError(const std::string& message);
int UsageError(const absl::Status& status);

// --flag as a non-negative integer; `fallback` when absent, or
// INVALID_ARGUMENT "--flag is required" without one.
absl::StatusOr<uint64_t> UintFlag(const Args& args, const std::string& flag,
                                  std::optional<uint64_t> fallback);

// Checks that every flag in `required` has a value, then reads the ask
// into a request for a decision (RequestDisclosureRequest,
// ExplainDecisionRequest). kExitOk, or the usage error already reported.
template <typename Request>
int ReadAsk(const Args& args, const std::vector<std::string>& required,
            Request* request) {
  if (int rc = RequireFlags(args, required)) return rc;
  absl::StatusOr<Ask> ask = ParseAsk(args);
  if (!ask.ok()) return UsageError(ask.status());
  request->set_purpose(ask->purpose);
  for (haven::v1::Category c : ask->categories) request->add_categories(c);
  request->set_justification(ask->justification);
  return kExitOk;
}

// One line per category: ALLOWED/WITHHELD, reason, rule, consent and the
// explanation, then the policy version.
void PrintDecision(const haven::v1::Decision& decision);

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_DECISION_OUTPUT_H_
