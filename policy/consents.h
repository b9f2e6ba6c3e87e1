// The policy side's view of a subject's consents and refusals.
//
// ConsentView is a plain struct made from a haven.v1.Consent (the evaluator
// never loops over protos). CompiledConsents holds one subject's consents and
// whether the subject has an active refusal; it is immutable once built, so
// any number of threads may read it.
#ifndef HAVEN_POLICY_CONSENTS_H_
#define HAVEN_POLICY_CONSENTS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "haven/v1/consent.pb.h"
#include "haven/v1/policy.pb.h"
#include "policy/masks.h"

namespace haven::policy {

// Uses counted in the current use-limit window.
struct UseWindow {
  uint32_t uses = 0;
  // Start of the current window (Unix seconds). A window of
  // `period_seconds` that has ended counts as zero uses.
  int64_t start_unix = 0;
};

struct ConsentView {
  std::string consent_id;
  // Exactly one of these is set: an agency id, or a sector.
  std::string grantee_agency;
  int grantee_sector = 0;
  PurposeMask purposes = 0;
  CategoryMask categories = 0;
  int64_t valid_from_unix = 0;
  int64_t valid_until_unix = 0;  // exclusive
  haven::v1::ConsentStatus status = haven::v1::CONSENT_STATUS_UNSPECIFIED;
  uint32_t max_uses = 0;       // 0 = no limit
  int64_t period_seconds = 0;  // 0 = the limit is for the consent's life
  UseWindow window;

  // From the stored consent. `window` is the registry's count of uses in the
  // current window (the proto holds only the lifetime count).
  static ConsentView FromProto(const haven::v1::Consent& consent,
                               UseWindow window);

  // True if granted to `agency` or to `sector`.
  bool GrantsTo(const std::string& agency, int sector) const {
    return grantee_agency.empty()
               ? (grantee_sector != 0 && grantee_sector == sector)
               : grantee_agency == agency;
  }
  // DECISION_REASON_UNSPECIFIED if usable at `now_unix`; otherwise why not:
  // CONSENT_IS_REVOKED, _PAUSED, _EXPIRED, _NOT_YET_VALID, _USE_LIMIT_REACHED
  // (checked in that order), or NO_CONSENT for a status that is never usable.
  haven::v1::DecisionReason UnusableReason(int64_t now_unix) const;
};

// When several consents name the requester, purpose and category but none
// is usable, the reported reason is the one with the lowest rank here (the
// one closest to being usable), ties going to the earlier consent.
int UnusableRank(haven::v1::DecisionReason reason);

// One subject's consents and refusal, ready for the evaluator. Immutable.
struct CompiledConsents {
  // Changes whenever the subject's consents (terms or status) or refusals
  // change, not when a use is counted: a decision made on one generation
  // may be logged only while it is still current.
  uint64_t generation = 0;
  // An active refusal of every agency.
  bool refused = false;
  std::string refusal_id;  // an active refusal, when `refused`
  // Agencies an active refusal names one by one (few: a survivor names
  // them), each refused as `refused` refuses everyone.
  std::vector<std::string> refused_agencies;
  std::vector<ConsentView> consents;

  // Whether `agency`'s requests meet a refusal (of everyone, or of it).
  bool Refuses(const std::string& agency) const {
    if (refused) return true;
    for (const std::string& a : refused_agencies) {
      if (a == agency) return true;
    }
    return false;
  }
};

// A shared empty instance (no consents, no refusal).
std::shared_ptr<const CompiledConsents> EmptyConsents();

}  // namespace haven::policy

#endif  // HAVEN_POLICY_CONSENTS_H_
