// A task-force policy and consent builders shared by the policy tests.
#ifndef HAVEN_TESTS_UNIT_POLICY_TEST_POLICY_H_
#define HAVEN_TESTS_UNIT_POLICY_TEST_POLICY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "haven/v1/consent.pb.h"
#include "policy/consents.h"

namespace haven::policy::testing {

inline constexpr int64_t kT0 = 1'790'000'000;  // "now" in most cases

// Safe Harbor's policy as the tests know it.
inline constexpr char kTaskForcePolicy[] = R"pb(
  agency_id: "safe-harbor"
  label: "test protocol"
  rules {
    name: "no-immigration-to-police"
    effect: DENY
    requester { sectors: LAW_ENFORCEMENT }
    purposes: [
      SERVICE_REFERRAL,
      CASE_COORDINATION,
      SAFETY_PLANNING,
      LEGAL_REPRESENTATION,
      INVESTIGATION,
      PROSECUTION_PURPOSE,
      EMERGENCY
    ]
    categories: IMMIGRATION
  }
  rules {
    name: "case-notes-stay-home"
    effect: DENY
    requester {
      sectors: [ LAW_ENFORCEMENT, LEGAL_SERVICES, VICTIM_SERVICES, SHELTER ]
    }
    purposes: [
      SERVICE_REFERRAL,
      CASE_COORDINATION,
      SAFETY_PLANNING,
      LEGAL_REPRESENTATION,
      INVESTIGATION
    ]
    categories: CASE_NOTES
  }
  rules {
    name: "legal-representation"
    effect: PERMIT
    requester { sectors: LEGAL_SERVICES }
    purposes: LEGAL_REPRESENTATION
    categories: [ CONTACT, IMMIGRATION, LEGAL, CASE_NOTES ]
    requires_consent: true
  }
  rules {
    name: "service-referral"
    effect: PERMIT
    requester { sectors: [ VICTIM_SERVICES, SHELTER ] }
    purposes: [ SERVICE_REFERRAL, SAFETY_PLANNING ]
    categories: [ CONTACT, SERVICE_NEEDS, CASE_STATUS ]
    requires_consent: true
  }
  rules {
    name: "case-status-coordination"
    effect: PERMIT
    requester { sectors: [ VICTIM_SERVICES, LEGAL_SERVICES, SHELTER ] }
    purposes: CASE_COORDINATION
    categories: CASE_STATUS
  }
  rules {
    name: "police-investigation"
    effect: PERMIT
    requester { sectors: LAW_ENFORCEMENT }
    purposes: INVESTIGATION
    categories: [ CONTACT, CASE_STATUS, IMMIGRATION ]
    requires_consent: true
  }
  rules {
    name: "emergency-locate"
    effect: EMERGENCY_PERMIT
    requester { sectors: LAW_ENFORCEMENT }
    purposes: EMERGENCY
    categories: [ LOCATION, CONTACT ]
  }
  rules {
    name: "clinic-medical"
    effect: PERMIT
    requester { agency_ids: "city-clinic" }
    purposes: SERVICE_REFERRAL
    categories: MEDICAL
    requires_consent: true
  }
)pb";

// A consent for the tests: granted to an agency (non-empty) or a sector.
struct ConsentSpec {
  std::string id;
  std::string agency;
  int sector = 0;
  std::vector<int> purposes;
  std::vector<int> categories;
  haven::v1::ConsentStatus status = haven::v1::ACTIVE;
  int64_t from = kT0 - 86400;
  int64_t until = kT0 + 86400;
  uint32_t max_uses = 0;
  int64_t period = 0;
  uint32_t uses = 0;
  int64_t window_start = 0;
};

inline haven::v1::Consent ToProto(const ConsentSpec& s) {
  haven::v1::Consent c;
  c.set_consent_id(s.id);
  c.set_version(1);
  c.set_subject_id("subject-under-test");
  if (!s.agency.empty()) {
    c.mutable_grantee()->set_agency_id(s.agency);
  } else {
    c.mutable_grantee()->set_sector(static_cast<haven::v1::Sector>(s.sector));
  }
  for (int p : s.purposes) c.add_purposes(static_cast<haven::v1::Purpose>(p));
  for (int x : s.categories)
    c.add_categories(static_cast<haven::v1::Category>(x));
  c.mutable_valid()->set_from_unix(s.from);
  c.mutable_valid()->set_until_unix(s.until);
  c.set_status(s.status);
  c.mutable_use_limit()->set_max_uses(s.max_uses);
  c.mutable_use_limit()->set_period_seconds(s.period);
  return c;
}

inline CompiledConsents Compile(const std::vector<ConsentSpec>& specs,
                                bool refused) {
  CompiledConsents out;
  out.refused = refused;
  if (refused) out.refusal_id = "refusal-1";
  for (const ConsentSpec& s : specs) {
    out.consents.push_back(
        ConsentView::FromProto(ToProto(s), UseWindow{s.uses, s.window_start}));
  }
  return out;
}

}  // namespace haven::policy::testing

#endif  // HAVEN_TESTS_UNIT_POLICY_TEST_POLICY_H_
