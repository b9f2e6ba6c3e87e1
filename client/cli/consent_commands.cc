// havenctl consent …: consent and refusal, recorded by a survivor's advocate
// (advocate role).
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/commands.h"
#include "client/cli/decision_output.h"
#include "client/cli/rpc.h"
#include "haven/v1/consent.grpc.pb.h"

namespace haven::client::cli {
namespace {

using haven::v1::ConsentService;

constexpr int64_t kSecondsPerDay = 24 * 60 * 60;

constexpr char kTermsUsage[] =
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

int Require(const Invocation& in, const std::string& flag) {
  return RequireFlags(in.args, {flag});
}

// 64 hex digits to 32 bytes.
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

absl::StatusOr<int64_t> ParsePositive(const Invocation& in,
                                      const std::string& flag) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(in.args.GetOr(flag, ""), &value) || value <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " expects a positive whole number"));
  }
  return value;
}

// The consent terms from the command line. `need_subject` is false for an
// amendment (the subject stays the consent's own).
absl::Status ParseTerms(const Invocation& in, bool need_subject,
                        haven::v1::Consent* consent) {
  const Args& args = in.args;
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
    auto days = ParsePositive(in, "data-life-days");
    if (!days.ok()) return days.status();
    consent->set_data_life_seconds(*days * kSecondsPerDay);
  }
  if (args.Has("max-uses") != args.Has("per-days")) {
    return absl::InvalidArgumentError("--max-uses and --per-days go together");
  }
  if (args.Has("max-uses")) {
    auto uses = ParsePositive(in, "max-uses");
    if (!uses.ok()) return uses.status();
    auto days = ParsePositive(in, "per-days");
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

std::string GranteeName(const haven::v1::Grantee& grantee) {
  if (grantee.has_agency_id()) return grantee.agency_id();
  if (grantee.has_sector()) {
    return "sector " + haven::v1::Sector_Name(grantee.sector());
  }
  return "-";
}

std::string PurposeNames(const haven::v1::Consent& consent) {
  std::vector<std::string> names;
  for (int p : consent.purposes()) {
    names.push_back(
        haven::v1::Purpose_Name(static_cast<haven::v1::Purpose>(p)));
  }
  return names.empty() ? "-" : absl::StrJoin(names, ",");
}

std::string CategoryNames(const haven::v1::Consent& consent) {
  std::vector<std::string> names;
  for (int c : consent.categories()) {
    names.push_back(
        haven::v1::Category_Name(static_cast<haven::v1::Category>(c)));
  }
  return names.empty() ? "-" : absl::StrJoin(names, ",");
}

std::string StatusName(const haven::v1::Consent& consent) {
  return haven::v1::ConsentStatus_Name(consent.status());
}

std::string Uses(const haven::v1::Consent& consent) {
  std::string uses = absl::StrCat(consent.use_count());
  if (consent.use_limit().max_uses() > 0) {
    absl::StrAppend(&uses, "/", consent.use_limit().max_uses(), " per ",
                    consent.use_limit().period_seconds() / kSecondsPerDay, "d");
  }
  return uses;
}

void PrintReceipt(const haven::v1::ConsentReceipt& receipt) {
  const haven::v1::Consent& consent = receipt.consent();
  std::printf(
      "consent    %s\nversion    %u\nstatus     %s\nsubject    %s\n"
      "grantee    %s\npurposes   %s\ncategories %s\nvalid      %s .. %s\n",
      consent.consent_id().c_str(), consent.version(),
      StatusName(consent).c_str(), consent.subject_id().c_str(),
      GranteeName(consent.grantee()).c_str(), PurposeNames(consent).c_str(),
      CategoryNames(consent).c_str(),
      FormatUnix(consent.valid().from_unix()).c_str(),
      FormatUnix(consent.valid().until_unix()).c_str());
  if (!consent.status_reason().empty()) {
    std::printf("reason     %s\n", consent.status_reason().c_str());
  }
  std::printf("issuer     %s\nkey id     %s\nsignature  %s\n",
              receipt.issuer().c_str(), receipt.key_id().c_str(),
              absl::Base64Escape(receipt.signature()).c_str());
}

int PrintReceiptOrJson(const Invocation& in,
                       const haven::v1::ConsentReceipt& receipt) {
  if (in.json) {
    std::puts(ToJson(receipt).c_str());
  } else {
    PrintReceipt(receipt);
  }
  return kExitOk;
}

int Record(const Invocation& in) {
  haven::v1::RecordConsentRequest request;
  if (absl::Status s = ParseTerms(in, true, request.mutable_consent());
      !s.ok()) {
    return UsageError(std::string(s.message()));
  }
  haven::v1::RecordConsentResponse response;
  absl::Status s = CallUnary<ConsentService>(
      in, &ConsentService::Stub::RecordConsent, request, &response);
  if (!s.ok()) return Report(s);
  return PrintReceiptOrJson(in, response.receipt());
}

int Amend(const Invocation& in) {
  if (int rc = Require(in, "id")) return rc;
  haven::v1::AmendConsentRequest request;
  request.set_consent_id(in.args.GetOr("id", ""));
  if (absl::Status s = ParseTerms(in, false, request.mutable_consent());
      !s.ok()) {
    return UsageError(std::string(s.message()));
  }
  haven::v1::AmendConsentResponse response;
  absl::Status s = CallUnary<ConsentService>(
      in, &ConsentService::Stub::AmendConsent, request, &response);
  if (!s.ok()) return Report(s);
  return PrintReceiptOrJson(in, response.receipt());
}

using StatusMethod = grpc::Status (ConsentService::Stub::*)(
    grpc::ClientContext*, const haven::v1::ChangeConsentStatusRequest&,
    haven::v1::ChangeConsentStatusResponse*);

int ChangeStatus(const Invocation& in, StatusMethod method, bool needs_reason) {
  if (int rc = Require(in, "id")) return rc;
  if (needs_reason) {
    if (int rc = Require(in, "reason")) return rc;
  }
  haven::v1::ChangeConsentStatusRequest request;
  request.set_consent_id(in.args.GetOr("id", ""));
  request.set_reason(in.args.GetOr("reason", ""));
  haven::v1::ChangeConsentStatusResponse response;
  absl::Status s = CallUnary<ConsentService>(in, method, request, &response);
  if (!s.ok()) return Report(s);
  return PrintReceiptOrJson(in, response.receipt());
}

void PrintRefusal(const haven::v1::Refusal& refusal) {
  std::printf(
      "refusal    %s\nsubject    %s\nagency     %s\nactive     %s\n"
      "recorded   %s by %s\n",
      refusal.refusal_id().c_str(), refusal.subject_id().c_str(),
      refusal.agency_id().empty() ? "every agency"
                                  : refusal.agency_id().c_str(),
      refusal.active() ? "yes" : "no",
      FormatUnix(refusal.recorded_unix()).c_str(),
      refusal.recorded_by().c_str());
  if (refusal.lifted_unix() != 0) {
    std::printf("lifted     %s\n", FormatUnix(refusal.lifted_unix()).c_str());
  }
}

// Both refusal calls answer with the refusal as it now stands.
template <typename Response, typename Request, typename Method>
int CallAndPrintRefusal(const Invocation& in, Method method,
                        const Request& request) {
  Response response;
  absl::Status s = CallUnary<ConsentService>(in, method, request, &response);
  if (!s.ok()) return Report(s);
  if (in.json) {
    std::puts(ToJson(response).c_str());
  } else {
    PrintRefusal(response.refusal());
  }
  return kExitOk;
}

int Refuse(const Invocation& in) {
  if (int rc = Require(in, "subject")) return rc;
  haven::v1::RecordRefusalRequest request;
  request.set_subject_id(in.args.GetOr("subject", ""));
  request.set_agency_id(in.args.GetOr("agency", ""));
  if (in.args.Has("evidence-sha256")) {
    std::string bytes;
    if (absl::Status s =
            ParseSha256(in.args.GetOr("evidence-sha256", ""), &bytes);
        !s.ok()) {
      return UsageError(std::string(s.message()));
    }
    request.set_evidence_sha256(bytes);
  }
  return CallAndPrintRefusal<haven::v1::RecordRefusalResponse>(
      in, &ConsentService::Stub::RecordRefusal, request);
}

int Lift(const Invocation& in) {
  if (int rc = Require(in, "refusal")) return rc;
  haven::v1::LiftRefusalRequest request;
  request.set_refusal_id(in.args.GetOr("refusal", ""));
  return CallAndPrintRefusal<haven::v1::LiftRefusalResponse>(
      in, &ConsentService::Stub::LiftRefusal, request);
}

int Get(const Invocation& in) {
  if (int rc = Require(in, "id")) return rc;
  haven::v1::GetConsentRequest request;
  request.set_consent_id(in.args.GetOr("id", ""));
  haven::v1::GetConsentResponse response;
  absl::Status s = CallUnary<ConsentService>(
      in, &ConsentService::Stub::GetConsent, request, &response);
  if (!s.ok()) return Report(s);
  if (in.json) {
    std::puts(ToJson(response).c_str());
    return kExitOk;
  }
  if (!response.history().empty()) {
    const haven::v1::Consent& current = *response.history().rbegin();
    std::printf("consent %s, subject %s, grantee %s\n",
                current.consent_id().c_str(), current.subject_id().c_str(),
                GranteeName(current.grantee()).c_str());
  }
  std::printf("%-3s %-8s %-20s %-24s %-24s %-20s %-20s %-8s %s\n", "VER",
              "STATUS", "RECORDED", "BY", "PURPOSES", "CATEGORIES",
              "VALID UNTIL", "USES", "REASON");
  for (const haven::v1::Consent& c : response.history()) {
    std::printf("%-3u %-8s %-20s %-24s %-24s %-20s %-20s %-8s %s\n",
                c.version(), StatusName(c).c_str(),
                FormatUnix(c.recorded_unix()).c_str(), c.recorded_by().c_str(),
                PurposeNames(c).c_str(), CategoryNames(c).c_str(),
                FormatUnix(c.valid().until_unix()).c_str(), Uses(c).c_str(),
                c.status_reason().empty() ? "-" : c.status_reason().c_str());
  }
  return kExitOk;
}

int List(const Invocation& in) {
  if (int rc = Require(in, "subject")) return rc;
  haven::v1::ListConsentsRequest request;
  request.set_subject_id(in.args.GetOr("subject", ""));
  haven::v1::ListConsentsResponse response;
  absl::Status s = CallUnary<ConsentService>(
      in, &ConsentService::Stub::ListConsents, request, &response);
  if (!s.ok()) return Report(s);
  if (in.json) {
    std::puts(ToJson(response).c_str());
    return kExitOk;
  }
  std::printf("%-34s %-24s %-24s %-20s %-20s %-8s %s\n", "ID", "GRANTEE",
              "PURPOSES", "CATEGORIES", "VALID UNTIL", "STATUS", "USES");
  for (const haven::v1::Consent& c : response.consents()) {
    std::printf("%-34s %-24s %-24s %-20s %-20s %-8s %s\n",
                c.consent_id().c_str(), GranteeName(c.grantee()).c_str(),
                PurposeNames(c).c_str(), CategoryNames(c).c_str(),
                FormatUnix(c.valid().until_unix()).c_str(),
                StatusName(c).c_str(), Uses(c).c_str());
  }
  for (const haven::v1::Refusal& r : response.refusals()) {
    std::printf("refusal %s %s%s%s, recorded %s\n", r.refusal_id().c_str(),
                r.active() ? "ACTIVE (do not share)" : "lifted",
                r.agency_id().empty() ? "" : " with ", r.agency_id().c_str(),
                FormatUnix(r.recorded_unix()).c_str());
  }
  return kExitOk;
}

std::set<std::string> With(std::set<std::string> flags,
                           std::initializer_list<std::string> more) {
  flags.insert(more);
  return flags;
}

}  // namespace

std::vector<Command> ConsentCommands() {
  return {
      {"consent", "record",
       "record a survivor's consent; prints the signed receipt",
       absl::StrCat("havenctl consent record --subject ID "
                    "(--grantee-agency ID | --grantee-sector SECTOR) "
                    "--purpose P --category C --until +90d [...]\n",
                    kTermsUsage),
       kTermFlags, Record},
      {"consent", "amend", "replace a consent's terms (a new version)",
       absl::StrCat("havenctl consent amend --id ID "
                    "(--grantee-agency ID | --grantee-sector SECTOR) "
                    "--purpose P --category C --until +90d [...]\n",
                    kTermsUsage),
       With(kTermFlags, {"id"}), Amend},
      {"consent",
       "pause",
       "make a consent unusable until resumed",
       "havenctl consent pause --id ID --reason TEXT\n"
       "  The reason goes to the audit log: no personal data.",
       {"id", "reason"},
       [](const Invocation& in) {
         return ChangeStatus(in, &ConsentService::Stub::PauseConsent, true);
       }},
      {"consent",
       "resume",
       "make a paused consent usable again",
       "havenctl consent resume --id ID [--reason TEXT]",
       {"id", "reason"},
       [](const Invocation& in) {
         return ChangeStatus(in, &ConsentService::Stub::ResumeConsent, false);
       }},
      {"consent",
       "revoke",
       "revoke a consent for good (takes effect at once)",
       "havenctl consent revoke --id ID --reason TEXT\n"
       "  The reason goes to the audit log: no personal data.",
       {"id", "reason"},
       [](const Invocation& in) {
         return ChangeStatus(in, &ConsentService::Stub::RevokeConsent, true);
       }},
      {"consent",
       "refuse",
       "record a survivor's do-not-share for a subject",
       "havenctl consent refuse --subject ID [--agency ID] "
       "[--evidence-sha256 HEX]\n"
       "  Overrides every consent; only emergency rules pass it. With\n"
       "  --agency, only for that agency (a member of the federation): its\n"
       "  handle is withdrawn; other agencies keep what consents grant.",
       {"subject", "agency", "evidence-sha256"},
       Refuse},
      {"consent",
       "lift",
       "lift a refusal",
       "havenctl consent lift --refusal ID",
       {"refusal"},
       Lift},
      {"consent",
       "get",
       "show a consent's full history",
       "havenctl consent get --id ID",
       {"id"},
       Get},
      {"consent",
       "list",
       "list a subject's consents and refusals",
       "havenctl consent list --subject ID",
       {"subject"},
       List},
  };
}

}  // namespace haven::client::cli
