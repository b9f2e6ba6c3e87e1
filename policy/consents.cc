#include "policy/consents.h"

namespace haven::policy {

using haven::v1::DecisionReason;

ConsentView ConsentView::FromProto(const haven::v1::Consent& consent,
                                   UseWindow window) {
  ConsentView view;
  view.consent_id = consent.consent_id();
  if (consent.grantee().has_agency_id()) {
    view.grantee_agency = consent.grantee().agency_id();
  } else if (consent.grantee().has_sector()) {
    view.grantee_sector = consent.grantee().sector();
  }
  for (int p : consent.purposes()) view.purposes |= Bit(p);
  for (int c : consent.categories()) view.categories |= Bit(c);
  // Bit 0 (unspecified) never grants anything.
  view.purposes &= ~Bit(0);
  view.categories &= ~Bit(0);
  view.valid_from_unix = consent.valid().from_unix();
  view.valid_until_unix = consent.valid().until_unix();
  view.status = consent.status();
  view.max_uses = consent.use_limit().max_uses();
  view.period_seconds = consent.use_limit().period_seconds();
  view.window = window;
  return view;
}

DecisionReason ConsentView::UnusableReason(int64_t now_unix) const {
  switch (status) {
    case haven::v1::REVOKED:
      return haven::v1::CONSENT_IS_REVOKED;
    case haven::v1::PAUSED:
      return haven::v1::CONSENT_IS_PAUSED;
    case haven::v1::EXPIRED:
      return haven::v1::CONSENT_IS_EXPIRED;
    case haven::v1::ACTIVE:
      break;
    default:
      return haven::v1::NO_CONSENT;
  }
  if (now_unix >= valid_until_unix) return haven::v1::CONSENT_IS_EXPIRED;
  if (now_unix < valid_from_unix) return haven::v1::CONSENT_IS_NOT_YET_VALID;
  if (max_uses != 0) {
    bool window_over =
        period_seconds > 0 && now_unix - window.start_unix >= period_seconds;
    uint32_t uses = window_over ? 0 : window.uses;
    if (uses >= max_uses) return haven::v1::CONSENT_USE_LIMIT_REACHED;
  }
  return haven::v1::DECISION_REASON_UNSPECIFIED;
}

int UnusableRank(DecisionReason reason) {
  switch (reason) {
    case haven::v1::CONSENT_USE_LIMIT_REACHED:
      return 0;
    case haven::v1::CONSENT_IS_PAUSED:
      return 1;
    case haven::v1::CONSENT_IS_NOT_YET_VALID:
      return 2;
    case haven::v1::CONSENT_IS_EXPIRED:
      return 3;
    case haven::v1::CONSENT_IS_REVOKED:
      return 4;
    default:
      return 5;
  }
}

std::shared_ptr<const CompiledConsents> EmptyConsents() {
  static const auto* empty = new std::shared_ptr<const CompiledConsents>(
      std::make_shared<const CompiledConsents>());
  return *empty;
}

}  // namespace haven::policy
