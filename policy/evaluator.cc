#include "policy/evaluator.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace haven::policy {
namespace {

using haven::v1::DecisionReason;

// What a subject's consents say for one (requester, purpose).
struct ConsentScan {
  CategoryMask usable = 0;
  CategoryMask named = 0;  // named by some consent, usable or not
  int16_t usable_index[kCategorySlots];
  int16_t unusable_index[kCategorySlots];
  uint8_t unusable_rank[kCategorySlots];
  DecisionReason unusable_reason[kCategorySlots];
};

void ScanConsents(const CompiledConsents& consents, const Request& request,
                  CategoryMask wanted, int64_t now, ConsentScan& scan) {
  const PurposeMask purpose = Bit(request.purpose);
  for (size_t i = 0; i < consents.consents.size(); ++i) {
    const ConsentView& consent = consents.consents[i];
    if ((consent.purposes & purpose) == 0) continue;
    CategoryMask cats = consent.categories & wanted & ~scan.usable;
    if (cats == 0) continue;
    if (!consent.GrantsTo(request.requester_agency, request.requester_sector))
      continue;
    DecisionReason why = consent.UnusableReason(now);
    if (why == haven::v1::DECISION_REASON_UNSPECIFIED) {
      scan.usable |= cats;
      while (cats != 0) {
        int c = __builtin_ctz(cats);
        cats &= cats - 1;
        scan.usable_index[c] = static_cast<int16_t>(i);
      }
      continue;
    }
    const uint8_t rank = static_cast<uint8_t>(UnusableRank(why));
    while (cats != 0) {
      int c = __builtin_ctz(cats);
      cats &= cats - 1;
      if ((scan.named & Bit(c)) == 0 || rank < scan.unusable_rank[c]) {
        scan.unusable_rank[c] = rank;
        scan.unusable_reason[c] = why;
        scan.unusable_index[c] = static_cast<int16_t>(i);
      }
      scan.named |= Bit(c);
    }
  }
}

}  // namespace

namespace {

size_t MinJustificationChars(const CompiledPolicy& policy) {
  return policy.policy().min_justification_chars() == 0
             ? kDefaultMinJustificationChars
             : policy.policy().min_justification_chars();
}

}  // namespace

bool IsSubstantialJustification(const CompiledPolicy& policy,
                                std::string_view justification) {
  const size_t min_chars = MinJustificationChars(policy);
  auto blank = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  size_t first = 0;
  size_t last = justification.size();
  while (first < last && blank(justification[first])) ++first;
  while (last > first && blank(justification[last - 1])) --last;
  if (last - first < min_chars) return false;
  int words = 0;
  int letters = 0;
  for (size_t i = first; i <= last; ++i) {
    const unsigned char c =
        i < last ? static_cast<unsigned char>(justification[i]) : ' ';
    if (std::isalpha(c) || c >= 0x80) {
      ++letters;
    } else if (!std::isdigit(c) && c != '\'' && c != '-') {
      if (letters >= 2) ++words;
      letters = 0;
    }
  }
  return words >= 3;
}

absl::Status Decide(const CompiledPolicy& policy,
                    const CompiledConsents& consents, const Request& request,
                    int64_t now_unix, std::span<CategoryResult> out) {
  if (request.purpose <= 0 || request.purpose >= kPurposeSlots ||
      !haven::v1::Purpose_IsValid(request.purpose)) {
    return absl::InvalidArgumentError("purpose must be a known purpose");
  }
  if (out.size() < request.categories.size()) {
    return absl::InvalidArgumentError("result span is too small");
  }
  const int p = request.purpose;
  const RequesterTable& sector = policy.ForSector(request.requester_sector);
  const RequesterTable* agency = policy.ForAgency(request.requester_agency);
  RuleMasks masks = sector.masks[p];
  if (agency != nullptr) {
    for (int k = 0; k < kRuleKinds; ++k)
      masks.by_kind[k] |= agency->masks[p].by_kind[k];
  }
  auto first_rule = [&](int kind, int c) -> int16_t {
    int16_t r = sector.first_rule[kind][p][c];
    if (agency != nullptr) r = std::min(r, agency->first_rule[kind][p][c]);
    return r;
  };

  CategoryMask wanted = 0;
  for (int c : request.categories) {
    if (c <= 0 || c >= kCategorySlots || !haven::v1::Category_IsValid(c)) {
      return absl::InvalidArgumentError(
          "requested categories must be known categories");
    }
    wanted |= Bit(c);
  }
  const CategoryMask deny = masks.by_kind[kDeny];
  const bool refused = consents.Refuses(request.requester_agency);
  ConsentScan scan;
  scan.usable = 0;
  scan.named = 0;
  if (!refused && (masks.by_kind[kPermitConsent] & wanted & ~deny) != 0) {
    ScanConsents(consents, request, masks.by_kind[kPermitConsent] & wanted,
                 now_unix, scan);
  }

  const CategoryMask permit_any =
      masks.by_kind[kPermit] | masks.by_kind[kPermitConsent];
  for (size_t i = 0; i < request.categories.size(); ++i) {
    const int c = request.categories[i];
    const CategoryMask b = Bit(c);
    CategoryResult& r = out[i];
    r = CategoryResult{};
    r.category = c;
    if (deny & b) {
      r.reason = haven::v1::DENIED_BY_RULE;
      r.rule = first_rule(kDeny, c);
    } else if (!refused && (masks.by_kind[kPermit] & b)) {
      r.allowed = true;
      r.reason = haven::v1::ALLOWED_BY_RULE;
      r.rule = first_rule(kPermit, c);
    } else if (!refused && (masks.by_kind[kPermitConsent] & b & scan.usable)) {
      r.allowed = true;
      r.reason = haven::v1::ALLOWED_BY_CONSENT;
      r.rule = first_rule(kPermitConsent, c);
      r.consent = scan.usable_index[c];
    } else if (masks.by_kind[kEmergency] & b) {
      r.rule = first_rule(kEmergency, c);
      if (!IsSubstantialJustification(policy, request.justification)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "emergency rule '", policy.rule(r.rule).name(),
            "' needs a written justification of at least ",
            MinJustificationChars(policy), " characters and three words"));
      }
      r.allowed = true;
      r.break_glass = true;
      r.reason = haven::v1::ALLOWED_BY_EMERGENCY;
    } else if (refused && (permit_any & b)) {
      r.reason = haven::v1::REFUSED_BY_SURVIVOR;
      r.rule = (masks.by_kind[kPermit] & b) ? first_rule(kPermit, c)
                                            : first_rule(kPermitConsent, c);
    } else if (masks.by_kind[kPermitConsent] & b) {
      r.rule = first_rule(kPermitConsent, c);
      if (scan.named & b) {
        r.reason = scan.unusable_reason[c];
        r.consent = scan.unusable_index[c];
      } else {
        r.reason = haven::v1::NO_CONSENT;
      }
    } else {
      r.reason = haven::v1::NO_MATCHING_RULE;
    }
  }
  return absl::OkStatus();
}

std::string Explain(const CompiledPolicy& policy,
                    const CompiledConsents& consents,
                    const CategoryResult& result) {
  const std::string category = haven::v1::Category_Name(result.category);
  const std::string rule =
      result.rule == kNoRule
          ? std::string()
          : absl::StrCat("rule '", policy.rule(result.rule).name(), "'");
  const std::string consent =
      result.consent < 0 ||
              static_cast<size_t>(result.consent) >= consents.consents.size()
          ? std::string()
          : absl::StrCat("consent ",
                         consents.consents[result.consent].consent_id);
  switch (result.reason) {
    case haven::v1::ALLOWED_BY_RULE:
      return absl::StrCat(category, " allowed by ", rule,
                          ", which needs no consent.");
    case haven::v1::ALLOWED_BY_CONSENT:
      return absl::StrCat(category, " allowed by ", rule, " with ", consent,
                          ".");
    case haven::v1::ALLOWED_BY_EMERGENCY:
      return absl::StrCat(category, " allowed by emergency ", rule,
                          " on a written justification; flagged for review.");
    case haven::v1::DENIED_BY_RULE:
      return absl::StrCat(category, " withheld: deny ", rule, " matches.");
    case haven::v1::REFUSED_BY_SURVIVOR:
      // A refusal of one agency is told only to that agency's requests,
      // so "this agency" names no one else.
      return absl::StrCat(category, " withheld: the survivor refused sharing",
                          consents.refused ? "" : " with this agency", " (",
                          rule, " would otherwise apply).");
    case haven::v1::NO_CONSENT:
      return absl::StrCat(category, " withheld: ", rule,
                          " needs consent and no consent grants it to this "
                          "requester for this purpose.");
    case haven::v1::CONSENT_IS_EXPIRED:
      return absl::StrCat(category, " withheld: ", consent, " has expired.");
    case haven::v1::CONSENT_IS_NOT_YET_VALID:
      return absl::StrCat(category, " withheld: ", consent,
                          " is not yet valid.");
    case haven::v1::CONSENT_IS_PAUSED:
      return absl::StrCat(category, " withheld: ", consent, " is paused.");
    case haven::v1::CONSENT_IS_REVOKED:
      return absl::StrCat(category, " withheld: ", consent, " was revoked.");
    case haven::v1::CONSENT_USE_LIMIT_REACHED:
      return absl::StrCat(category, " withheld: ", consent,
                          " has reached its use limit.");
    case haven::v1::JUSTIFICATION_MISSING:
      return absl::StrCat(category, " withheld: ", rule,
                          " needs a written justification.");
    case haven::v1::NO_MATCHING_RULE:
    default:
      return absl::StrCat(category,
                          " withheld: no rule permits it to this requester "
                          "for this purpose.");
  }
}

absl::StatusOr<haven::v1::Decision> Evaluator::Evaluate(
    const CompiledPolicy& policy, const CompiledConsents& consents,
    const Request& request) const {
  std::vector<CategoryResult> results(request.categories.size());
  absl::Status status =
      Decide(policy, consents, request, clock_->NowUnix(), results);
  if (!status.ok()) return status;
  haven::v1::Decision decision;
  decision.set_policy_version(policy.version());
  for (const CategoryResult& r : results) {
    haven::v1::CategoryDecision* d = decision.add_categories();
    d->set_category(static_cast<haven::v1::Category>(r.category));
    d->set_allowed(r.allowed);
    d->set_reason(r.reason);
    if (r.rule != kNoRule) d->set_rule(policy.rule(r.rule).name());
    if (r.consent >= 0) {
      d->set_consent_id(consents.consents[r.consent].consent_id);
    }
    d->set_break_glass(r.break_glass);
    d->set_explanation(Explain(policy, consents, r));
  }
  return decision;
}

}  // namespace haven::policy
