#include "client/cli/consent_text.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/consent_terms.h"
#include "client/cli/decision_output.h"

namespace haven::client::cli {
namespace {

std::string GranteeName(const haven::v1::Grantee& grantee) {
  if (grantee.has_agency_id()) return grantee.agency_id();
  if (grantee.has_sector()) {
    return "sector " + haven::v1::Sector_Name(grantee.sector());
  }
  return "-";
}

// "A,B", or "-" for none.
template <typename NameOf>
std::string NameList(const google::protobuf::RepeatedField<int>& values,
                     NameOf name_of) {
  std::vector<std::string> names;
  for (int v : values) names.push_back(name_of(v));
  return names.empty() ? "-" : absl::StrJoin(names, ",");
}

std::string PurposeNames(const haven::v1::Consent& consent) {
  return NameList(consent.purposes(), [](int p) {
    return haven::v1::Purpose_Name(static_cast<haven::v1::Purpose>(p));
  });
}

std::string ConsentCategoryNames(const haven::v1::Consent& consent) {
  return NameList(consent.categories(), [](int c) {
    return haven::v1::Category_Name(static_cast<haven::v1::Category>(c));
  });
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

}  // namespace

void PrintReceipt(const haven::v1::ConsentReceipt& receipt) {
  const haven::v1::Consent& consent = receipt.consent();
  std::printf(
      "consent    %s\nversion    %u\nstatus     %s\nsubject    %s\n"
      "grantee    %s\npurposes   %s\ncategories %s\nvalid      %s .. %s\n",
      consent.consent_id().c_str(), consent.version(),
      StatusName(consent).c_str(), consent.subject_id().c_str(),
      GranteeName(consent.grantee()).c_str(), PurposeNames(consent).c_str(),
      ConsentCategoryNames(consent).c_str(),
      FormatUnix(consent.valid().from_unix()).c_str(),
      FormatUnix(consent.valid().until_unix()).c_str());
  if (!consent.status_reason().empty()) {
    std::printf("reason     %s\n", consent.status_reason().c_str());
  }
  std::printf("issuer     %s\nkey id     %s\nsignature  %s\n",
              receipt.issuer().c_str(), receipt.key_id().c_str(),
              absl::Base64Escape(receipt.signature()).c_str());
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

void PrintConsentHistory(const haven::v1::GetConsentResponse& response) {
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
                PurposeNames(c).c_str(), ConsentCategoryNames(c).c_str(),
                FormatUnix(c.valid().until_unix()).c_str(), Uses(c).c_str(),
                c.status_reason().empty() ? "-" : c.status_reason().c_str());
  }
}

void PrintConsentList(const haven::v1::ListConsentsResponse& response) {
  std::printf("%-34s %-24s %-24s %-20s %-20s %-8s %s\n", "ID", "GRANTEE",
              "PURPOSES", "CATEGORIES", "VALID UNTIL", "STATUS", "USES");
  for (const haven::v1::Consent& c : response.consents()) {
    std::printf("%-34s %-24s %-24s %-20s %-20s %-8s %s\n",
                c.consent_id().c_str(), GranteeName(c.grantee()).c_str(),
                PurposeNames(c).c_str(), ConsentCategoryNames(c).c_str(),
                FormatUnix(c.valid().until_unix()).c_str(),
                StatusName(c).c_str(), Uses(c).c_str());
  }
  for (const haven::v1::Refusal& r : response.refusals()) {
    std::printf("refusal %s %s%s%s, recorded %s\n", r.refusal_id().c_str(),
                r.active() ? "ACTIVE (do not share)" : "lifted",
                r.agency_id().empty() ? "" : " with ", r.agency_id().c_str(),
                FormatUnix(r.recorded_unix()).c_str());
  }
}

}  // namespace haven::client::cli
