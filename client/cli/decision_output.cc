#include "client/cli/decision_output.h"

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "client/cli/command.h"

namespace haven::client::cli {
namespace {

// `parse` is a generated Enum_Parse function.
template <typename Enum>
absl::StatusOr<Enum> ParseEnum(bool (*parse)(const std::string&, Enum*),
                               const std::string& flag, const std::string& name,
                               const char* examples) {
  std::string upper = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(name));
  for (char& c : upper) {
    if (c == '-') c = '_';
  }
  Enum value;
  if (upper.empty() || absl::EndsWith(upper, "_UNSPECIFIED") ||
      !parse(upper, &value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown value '", name, "' for --", flag, " (e.g. ", examples, ")"));
  }
  return value;
}

std::vector<std::string> SplitValues(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& value : values) {
    for (absl::string_view part :
         absl::StrSplit(value, ',', absl::SkipWhitespace())) {
      out.emplace_back(part);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<haven::v1::Category> ParseCategory(const std::string& flag,
                                                  const std::string& name) {
  return ParseEnum(&haven::v1::Category_Parse, flag, name,
                   "CONTACT, IDENTITY, LOCATION, IMMIGRATION, LEGAL, MEDICAL");
}

absl::StatusOr<haven::v1::Purpose> ParsePurpose(const std::string& flag,
                                                const std::string& name) {
  return ParseEnum(&haven::v1::Purpose_Parse, flag, name,
                   "SERVICE_REFERRAL, CASE_COORDINATION, LEGAL_REPRESENTATION, "
                   "INVESTIGATION, EMERGENCY");
}

absl::StatusOr<haven::v1::Sector> ParseSector(const std::string& flag,
                                              const std::string& name) {
  return ParseEnum(&haven::v1::Sector_Parse, flag, name,
                   "LEGAL_SERVICES, VICTIM_SERVICES, LAW_ENFORCEMENT, SHELTER");
}

namespace {

// Every value of a repeated flag parsed by `parse_one`.
template <typename Enum>
absl::StatusOr<std::vector<Enum>> ParseAll(
    const std::string& flag, const std::vector<std::string>& values,
    absl::StatusOr<Enum> (*parse_one)(const std::string&, const std::string&)) {
  std::vector<Enum> out;
  for (const std::string& name : SplitValues(values)) {
    absl::StatusOr<Enum> value = parse_one(flag, name);
    if (!value.ok()) return value.status();
    out.push_back(*value);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<haven::v1::Category>> ParseCategories(
    const std::string& flag, const std::vector<std::string>& values) {
  return ParseAll(flag, values, &ParseCategory);
}

absl::StatusOr<std::vector<haven::v1::Purpose>> ParsePurposes(
    const std::string& flag, const std::vector<std::string>& values) {
  return ParseAll(flag, values, &ParsePurpose);
}

std::string FormatUnix(int64_t unix_seconds) {
  if (unix_seconds == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%SZ",
                          absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

absl::StatusOr<Ask> ParseAsk(const Args& args) {
  Ask ask;
  auto purpose = ParsePurpose("purpose", args.GetOr("purpose", ""));
  if (!purpose.ok()) return purpose.status();
  ask.purpose = *purpose;
  auto categories = ParseCategories("category", args.GetAll("category"));
  if (!categories.ok()) return categories.status();
  if (categories->empty()) {
    return absl::InvalidArgumentError("at least one --category is required");
  }
  ask.categories = *std::move(categories);
  ask.justification = args.GetOr("justification", "");
  return ask;
}

int RequireFlags(const Args& args, const std::vector<std::string>& flags) {
  for (const std::string& flag : flags) {
    if (args.GetOr(flag, "").empty()) {
      return UsageError(absl::StrCat("--", flag, " is required"));
    }
  }
  return kExitOk;
}

int UsageError(const std::string& message) {
  std::fprintf(stderr, "havenctl: %s\n", message.c_str());
  return kExitUsage;
}

int UsageError(const absl::Status& status) {
  return UsageError(std::string(status.message()));
}

absl::StatusOr<uint64_t> UintFlag(const Args& args, const std::string& flag,
                                  std::optional<uint64_t> fallback) {
  std::optional<std::string> value = args.Get(flag);
  if (!value.has_value()) {
    if (fallback.has_value()) return *fallback;
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " is required"));
  }
  uint64_t n = 0;
  if (!absl::SimpleAtoi(*value, &n)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " must be a non-negative integer"));
  }
  return n;
}

void PrintDecision(const haven::v1::Decision& decision) {
  std::printf("%-16s %-9s %-26s %-28s %s\n", "CATEGORY", "DECISION", "REASON",
              "RULE", "CONSENT");
  for (const haven::v1::CategoryDecision& c : decision.categories()) {
    std::string verdict = c.allowed() ? "ALLOWED" : "WITHHELD";
    std::printf("%-16s %-9s %-26s %-28s %s%s\n",
                haven::v1::Category_Name(c.category()).c_str(), verdict.c_str(),
                haven::v1::DecisionReason_Name(c.reason()).c_str(),
                c.rule().empty() ? "-" : c.rule().c_str(),
                c.consent_id().empty() ? "-" : c.consent_id().c_str(),
                c.break_glass() ? "  [break-glass]" : "");
    if (!c.explanation().empty()) {
      std::printf("  %s\n", c.explanation().c_str());
    }
  }
  if (!decision.policy_version().empty()) {
    std::printf("policy version %s\n", decision.policy_version().c_str());
  }
}

}  // namespace haven::client::cli
