#include "client/cli/consent_terms.h"

#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/decision_output.h"

namespace haven::client::cli {

const char kTermsUsage[] =
    "  --subject ID                 the subject the consent is about\n"
    "  --grantee-agency ID | --grantee-sector SECTOR\n"
    "                               who may see the data (one of the two)\n"
    "  --purpose P [--purpose P]    e.g. LEGAL_REPRESENTATION\n"
    "  --category C [--category C]  e.g. CONTACT, IMMIGRATION\n"
    "  --until UNIX_SECONDS | +Nd   end of validity (exclusive), e.g. +90d\n"
    "  --from UNIX_SECONDS          start of validity (default now)\n"
    "  --data-life-days N           how long the recipient may keep the data\n"
    "  --max-uses N --per-days D    at most N disclosures every D days\n"
    "  --evidence-sha256 HEX        SHA-256 of the signed release form";

const std::set<std::string> kTermFlags = {
    "subject",  "grantee-agency", "grantee-sector", "purpose",
    "category", "until",          "from",           "data-life-days",
    "max-uses", "per-days",       "evidence-sha256"};

absl::Status ParseSha256(const std::string& hex, std::string* bytes) {
  std::string lower = absl::AsciiStrToLower(hex);
  if (lower.size() != 64 ||
      lower.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return absl::InvalidArgumentError(
        "--evidence-sha256 must be 64 hex digits (the SHA-256 of the form)");
  }
  *bytes = absl::HexStringToBytes(lower);
  return absl::OkStatus();
}

namespace {

// UNIX_SECONDS, or "+Nd" for N days from `now`.
absl::StatusOr<int64_t> ParseWhen(const std::string& flag,
                                  const std::string& value, int64_t now) {
  int64_t result = 0;
  if (!value.empty() && value[0] == '+' && value.back() == 'd') {
    int64_t days = 0;
    if (absl::SimpleAtoi(value.substr(1, value.size() - 2), &days) &&
        days > 0 && days < 100 * 366) {
      return now + days * kSecondsPerDay;
    }
  } else if (absl::SimpleAtoi(value, &result) && result > 0) {
    return result;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--", flag, " expects Unix seconds or +Nd (days from now), got '", value,
      "'"));
}

absl::StatusOr<int64_t> ParsePositive(const Args& args,
                                      const std::string& flag) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(args.GetOr(flag, ""), &value) || value <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " expects a positive whole number"));
  }
  return value;
}

}  // namespace

absl::Status ParseTerms(const Args& args, bool need_subject,
                        haven::v1::Consent* consent) {
  if (need_subject) {
    if (args.GetOr("subject", "").empty()) {
      return absl::InvalidArgumentError("--subject is required");
    }
    consent->set_subject_id(args.GetOr("subject", ""));
  } else if (args.Has("subject")) {
    consent->set_subject_id(args.GetOr("subject", ""));
  }

  const bool by_agency = args.Has("grantee-agency");
  const bool by_sector = args.Has("grantee-sector");
  if (by_agency == by_sector) {
    return absl::InvalidArgumentError(
        "give exactly one of --grantee-agency ID or --grantee-sector SECTOR");
  }
  if (by_agency) {
    std::string agency = args.GetOr("grantee-agency", "");
    if (agency.empty()) {
      return absl::InvalidArgumentError("--grantee-agency must not be empty");
    }
    consent->mutable_grantee()->set_agency_id(agency);
  } else {
    auto sector =
        ParseSector("grantee-sector", args.GetOr("grantee-sector", ""));
    if (!sector.ok()) return sector.status();
    consent->mutable_grantee()->set_sector(*sector);
  }

  auto purposes = ParsePurposes("purpose", args.GetAll("purpose"));
  if (!purposes.ok()) return purposes.status();
  if (purposes->empty()) {
    return absl::InvalidArgumentError("at least one --purpose is required");
  }
  for (haven::v1::Purpose p : *purposes) consent->add_purposes(p);

  auto categories = ParseCategories("category", args.GetAll("category"));
  if (!categories.ok()) return categories.status();
  if (categories->empty()) {
    return absl::InvalidArgumentError("at least one --category is required");
  }
  for (haven::v1::Category c : *categories) consent->add_categories(c);

  const int64_t now = absl::ToUnixSeconds(absl::Now());
  int64_t from = now;
  if (args.Has("from")) {
    auto parsed = ParseWhen("from", args.GetOr("from", ""), now);
    if (!parsed.ok()) return parsed.status();
    from = *parsed;
  }
  if (args.GetOr("until", "").empty()) {
    return absl::InvalidArgumentError(
        "--until is required (Unix seconds, or +Nd such as +90d)");
  }
  auto until = ParseWhen("until", args.GetOr("until", ""), now);
  if (!until.ok()) return until.status();
  if (*until <= from) {
    return absl::InvalidArgumentError("--until must be after --from");
  }
  consent->mutable_valid()->set_from_unix(from);
  consent->mutable_valid()->set_until_unix(*until);

  if (args.Has("data-life-days")) {
    auto days = ParsePositive(args, "data-life-days");
    if (!days.ok()) return days.status();
    consent->set_data_life_seconds(*days * kSecondsPerDay);
  }
  if (args.Has("max-uses") != args.Has("per-days")) {
    return absl::InvalidArgumentError("--max-uses and --per-days go together");
  }
  if (args.Has("max-uses")) {
    auto uses = ParsePositive(args, "max-uses");
    if (!uses.ok()) return uses.status();
    auto days = ParsePositive(args, "per-days");
    if (!days.ok()) return days.status();
    if (*uses > UINT32_MAX) {
      return absl::InvalidArgumentError("--max-uses is too large");
    }
    consent->mutable_use_limit()->set_max_uses(static_cast<uint32_t>(*uses));
    consent->mutable_use_limit()->set_period_seconds(*days * kSecondsPerDay);
  }
  if (args.Has("evidence-sha256")) {
    std::string bytes;
    absl::Status s = ParseSha256(args.GetOr("evidence-sha256", ""), &bytes);
    if (!s.ok()) return s;
    consent->set_evidence_sha256(bytes);
  }
  return absl::OkStatus();
}

}  // namespace haven::client::cli
