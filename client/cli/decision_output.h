// Helpers shared by the consent, exchange and policy commands: enum names
// from the command line, times, and the per-category decision table.
#ifndef HAVEN_CLIENT_CLI_DECISION_OUTPUT_H_
#define HAVEN_CLIENT_CLI_DECISION_OUTPUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/cli/args.h"
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

// One line per category: ALLOWED/WITHHELD, reason, rule, consent and the
// explanation, then the policy version.
void PrintDecision(const haven::v1::Decision& decision);

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_DECISION_OUTPUT_H_
