#include "policy/evaluator.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/compiled_policy.h"
#include "policy/loader.h"
#include "policy/policy_holder.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/policy/test_policy.h"
#include "tests/testing/fake_clock.h"

namespace haven::policy {
namespace {

using haven::testing::IsOk;
using haven::testing::StatusIs;
using testing::ConsentSpec;
using ::testing::HasSubstr;
using testing::kT0;
using testing::kTaskForcePolicy;
namespace v1 = haven::v1;

std::shared_ptr<const CompiledPolicy> TaskForcePolicy() {
  auto loaded = LoadPolicy(kTaskForcePolicy, PolicyFormat::kTextProto, "test");
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  auto compiled = CompiledPolicy::Compile(loaded->policy);
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  return *compiled;
}

struct Case {
  std::string name{};
  std::string agency{};
  int sector = 0;
  int purpose = 0;
  int category = 0;
  std::vector<ConsentSpec> consents{};
  bool refused = false;
  int64_t now = kT0;
  std::string justification{};
  // Expected.
  bool allowed = false;
  v1::DecisionReason reason = v1::DECISION_REASON_UNSPECIFIED;
  std::string rule{};
  std::string consent_id{};  // checked when non-empty
  bool break_glass = false;
  absl::StatusCode error = absl::StatusCode::kOk;
};

ConsentSpec Grant(std::string id, std::string agency, int sector,
                  std::vector<int> purposes, std::vector<int> categories) {
  ConsentSpec s;
  s.id = std::move(id);
  s.agency = std::move(agency);
  s.sector = sector;
  s.purposes = std::move(purposes);
  s.categories = std::move(categories);
  return s;
}

ConsentSpec With(ConsentSpec s, v1::ConsentStatus status) {
  s.status = status;
  return s;
}

ConsentSpec Limited(ConsentSpec s, uint32_t max, int64_t period, uint32_t uses,
                    int64_t window_start) {
  s.max_uses = max;
  s.period = period;
  s.uses = uses;
  s.window_start = window_start;
  return s;
}

// Common consents.
const ConsentSpec kLegalAidLr =
    Grant("c-legal-aid", "legal-aid", 0, {v1::LEGAL_REPRESENTATION},
          {v1::CONTACT, v1::IMMIGRATION, v1::LEGAL, v1::CASE_NOTES});
const ConsentSpec kLegalSectorLr =
    Grant("c-legal-sector", "", v1::LEGAL_SERVICES, {v1::LEGAL_REPRESENTATION},
          {v1::CONTACT, v1::IMMIGRATION, v1::LEGAL});
const ConsentSpec kPoliceInvestigation =
    Grant("c-police", "metro-pd", 0, {v1::INVESTIGATION},
          {v1::CONTACT, v1::CASE_STATUS, v1::IMMIGRATION});
const ConsentSpec kShelterSector = Grant(
    "c-shelter", "", v1::SHELTER, {v1::SERVICE_REFERRAL, v1::SAFETY_PLANNING},
    {v1::CONTACT, v1::SERVICE_NEEDS});

std::vector<Case> Cases() {
  const int LS = v1::LEGAL_SERVICES, LE = v1::LAW_ENFORCEMENT,
            VS = v1::VICTIM_SERVICES, SH = v1::SHELTER, HE = v1::HEALTH,
            CW = v1::CHILD_WELFARE, PR = v1::PROSECUTION;
  std::vector<Case> c;
  auto add = [&](Case x) { c.push_back(std::move(x)); };
  // Legal representation.
  add({.name = "LegalAidWithConsentGetsImmigration",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::IMMIGRATION,
       .consents = {kLegalAidLr},
       .allowed = true,
       .reason = v1::ALLOWED_BY_CONSENT,
       .rule = "legal-representation",
       .consent_id = "c-legal-aid"});
  add({.name = "ConsentToOneLegalOfficeDoesNotReachAnother",
       .agency = "legal-aid-east",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::IMMIGRATION,
       .consents = {kLegalAidLr},
       .reason = v1::NO_CONSENT,
       .rule = "legal-representation"});
  add({.name = "SectorConsentReachesEveryLegalOffice",
       .agency = "legal-aid-east",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::LEGAL,
       .consents = {kLegalSectorLr},
       .allowed = true,
       .reason = v1::ALLOWED_BY_CONSENT,
       .rule = "legal-representation",
       .consent_id = "c-legal-sector"});
  add({.name = "LegalSectorConsentDoesNotReachPolice",
       .agency = "metro-pd",
       .sector = LE,
       .purpose = v1::INVESTIGATION,
       .category = v1::CONTACT,
       .consents = {kLegalSectorLr},
       .reason = v1::NO_CONSENT,
       .rule = "police-investigation"});
  add({.name = "LegalAidOtherPurposeHasNoRule",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::SERVICE_REFERRAL,
       .category = v1::CONTACT,
       .consents = {kLegalAidLr},
       .reason = v1::NO_MATCHING_RULE});
  add({.name = "LegalAidCategoryOutsideConsent",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::CONTACT,
       .consents = {Grant("c-narrow", "legal-aid", 0,
                          {v1::LEGAL_REPRESENTATION}, {v1::LEGAL})},
       .reason = v1::NO_CONSENT,
       .rule = "legal-representation"});
  // Time.
  add({.name = "ConsentStopsAtItsExactExpiryInstant",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::LEGAL,
       .consents = {kLegalAidLr},
       .now = kLegalAidLr.until,
       .reason = v1::CONSENT_IS_EXPIRED,
       .rule = "legal-representation",
       .consent_id = "c-legal-aid"});
  add({.name = "ConsentStillValidOneSecondBeforeExpiry",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::LEGAL,
       .consents = {kLegalAidLr},
       .now = kLegalAidLr.until - 1,
       .allowed = true,
       .reason = v1::ALLOWED_BY_CONSENT,
       .rule = "legal-representation"});
  add({.name = "ConsentNotYetValid",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::LEGAL,
       .consents = {kLegalAidLr},
       .now = kLegalAidLr.from - 1,
       .reason = v1::CONSENT_IS_NOT_YET_VALID,
       .rule = "legal-representation",
       .consent_id = "c-legal-aid"});
  add({.name = "ConsentValidFromItsFirstSecond",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::LEGAL,
       .consents = {kLegalAidLr},
       .now = kLegalAidLr.from,
       .allowed = true,
       .reason = v1::ALLOWED_BY_CONSENT,
       .rule = "legal-representation"});
  add({.name = "StoredExpiredStatusDenies",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::LEGAL,
       .consents = {With(kLegalAidLr, v1::EXPIRED)},
       .reason = v1::CONSENT_IS_EXPIRED,
       .rule = "legal-representation"});
  // Status.
  add({.name = "PausedConsentDenies",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::LEGAL,
       .consents = {With(kLegalAidLr, v1::PAUSED)},
       .reason = v1::CONSENT_IS_PAUSED,
       .rule = "legal-representation",
       .consent_id = "c-legal-aid"});
  add({.name = "RevokedConsentDenies",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::LEGAL,
       .consents = {With(kLegalAidLr, v1::REVOKED)},
       .reason = v1::CONSENT_IS_REVOKED,
       .rule = "legal-representation",
       .consent_id = "c-legal-aid"});
  add({.name = "RevokedConsentThenNewConsentAllows",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::LEGAL,
       .consents = {With(kLegalAidLr, v1::REVOKED), kLegalSectorLr},
       .allowed = true,
       .reason = v1::ALLOWED_BY_CONSENT,
       .rule = "legal-representation",
       .consent_id = "c-legal-sector"});
  add({.name = "PausedAndActiveConsentActiveWins",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::IMMIGRATION,
       .consents = {With(kLegalSectorLr, v1::PAUSED), kLegalAidLr},
       .allowed = true,
       .reason = v1::ALLOWED_BY_CONSENT,
       .rule = "legal-representation",
       .consent_id = "c-legal-aid"});
  add({.name = "RevokedAndPausedReportsPaused",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::IMMIGRATION,
       .consents = {With(kLegalAidLr, v1::REVOKED),
                    With(kLegalSectorLr, v1::PAUSED)},
       .reason = v1::CONSENT_IS_PAUSED,
       .rule = "legal-representation",
       .consent_id = "c-legal-sector"});
  // Refusal.
  add({.name = "RefusalOverridesConsent",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::LEGAL,
       .consents = {kLegalAidLr},
       .refused = true,
       .reason = v1::REFUSED_BY_SURVIVOR,
       .rule = "legal-representation"});
  add({.name = "RefusalOverridesSectorConsent",
       .agency = "legal-aid-east",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::IMMIGRATION,
       .consents = {kLegalSectorLr},
       .refused = true,
       .reason = v1::REFUSED_BY_SURVIVOR,
       .rule = "legal-representation"});
  add({.name = "RefusalOverridesRuleWithoutConsent",
       .agency = "safe-home",
       .sector = SH,
       .purpose = v1::CASE_COORDINATION,
       .category = v1::CASE_STATUS,
       .refused = true,
       .reason = v1::REFUSED_BY_SURVIVOR,
       .rule = "case-status-coordination"});
  add({.name = "RefusalOverridesPoliceConsent",
       .agency = "metro-pd",
       .sector = LE,
       .purpose = v1::INVESTIGATION,
       .category = v1::CONTACT,
       .consents = {kPoliceInvestigation},
       .refused = true,
       .reason = v1::REFUSED_BY_SURVIVOR,
       .rule = "police-investigation"});
  add({.name = "RefusalDoesNotStopEmergency",
       .agency = "metro-pd",
       .sector = LE,
       .purpose = v1::EMERGENCY,
       .category = v1::LOCATION,
       .refused = true,
       .justification = "credible threat to life, 911 call",
       .allowed = true,
       .reason = v1::ALLOWED_BY_EMERGENCY,
       .rule = "emergency-locate",
       .break_glass = true});
  add({.name = "RefusedCategoryWithoutRuleStillNoMatchingRule",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::MENTAL_HEALTH,
       .refused = true,
       .reason = v1::NO_MATCHING_RULE});
  // Deny rules.
  add({.name = "PoliceNeverReceiveImmigrationEvenWithConsent",
       .agency = "metro-pd",
       .sector = LE,
       .purpose = v1::INVESTIGATION,
       .category = v1::IMMIGRATION,
       .consents = {kPoliceInvestigation},
       .reason = v1::DENIED_BY_RULE,
       .rule = "no-immigration-to-police"});
  add({.name = "PoliceImmigrationDeniedInEmergencyToo",
       .agency = "metro-pd",
       .sector = LE,
       .purpose = v1::EMERGENCY,
       .category = v1::IMMIGRATION,
       .justification = "imminent risk",
       .reason = v1::DENIED_BY_RULE,
       .rule = "no-immigration-to-police"});
  add({.name = "CaseNotesStayHomeDespiteConsent",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::CASE_NOTES,
       .consents = {kLegalAidLr},
       .reason = v1::DENIED_BY_RULE,
       .rule = "case-notes-stay-home"});
  add({.name = "DenyWinsOverRefusal",
       .agency = "metro-pd",
       .sector = LE,
       .purpose = v1::INVESTIGATION,
       .category = v1::IMMIGRATION,
       .refused = true,
       .reason = v1::DENIED_BY_RULE,
       .rule = "no-immigration-to-police"});
  // Police with consent.
  add({.name = "PoliceContactWithConsentForInvestigation",
       .agency = "metro-pd",
       .sector = LE,
       .purpose = v1::INVESTIGATION,
       .category = v1::CONTACT,
       .consents = {kPoliceInvestigation},
       .allowed = true,
       .reason = v1::ALLOWED_BY_CONSENT,
       .rule = "police-investigation",
       .consent_id = "c-police"});
  add({.name = "PoliceWithoutConsentGetNothing",
       .agency = "metro-pd",
       .sector = LE,
       .purpose = v1::INVESTIGATION,
       .category = v1::CONTACT,
       .reason = v1::NO_CONSENT,
       .rule = "police-investigation"});
  add({.name = "PoliceConsentForProsecutionNotInvestigation",
       .agency = "metro-pd",
       .sector = LE,
       .purpose = v1::INVESTIGATION,
       .category = v1::CONTACT,
       .consents = {Grant("c-pros", "metro-pd", 0, {v1::PROSECUTION_PURPOSE},
                          {v1::CONTACT})},
       .reason = v1::NO_CONSENT,
       .rule = "police-investigation"});
  add({.name = "ConsentToOneDepartmentDoesNotReachAnother",
       .agency = "county-sheriff",
       .sector = LE,
       .purpose = v1::INVESTIGATION,
       .category = v1::CASE_STATUS,
       .consents = {kPoliceInvestigation},
       .reason = v1::NO_CONSENT,
       .rule = "police-investigation"});
  add({.name = "PoliceMedicalHasNoRule",
       .agency = "metro-pd",
       .sector = LE,
       .purpose = v1::INVESTIGATION,
       .category = v1::MEDICAL,
       .consents = {kPoliceInvestigation},
       .reason = v1::NO_MATCHING_RULE});
  // Emergency.
  add({.name = "EmergencyLocationWithJustificationIsBreakGlass",
       .agency = "metro-pd",
       .sector = LE,
       .purpose = v1::EMERGENCY,
       .category = v1::LOCATION,
       .justification = "trafficker located victim",
       .allowed = true,
       .reason = v1::ALLOWED_BY_EMERGENCY,
       .rule = "emergency-locate",
       .break_glass = true});
  add({.name = "EmergencyContactWithJustificationIsBreakGlass",
       .agency = "county-sheriff",
       .sector = LE,
       .purpose = v1::EMERGENCY,
       .category = v1::CONTACT,
       .justification = "missing person, minor",
       .allowed = true,
       .reason = v1::ALLOWED_BY_EMERGENCY,
       .rule = "emergency-locate",
       .break_glass = true});
  add({.name = "EmergencyWithoutJustificationIsInvalidArgument",
       .agency = "metro-pd",
       .sector = LE,
       .purpose = v1::EMERGENCY,
       .category = v1::LOCATION,
       .error = absl::StatusCode::kInvalidArgument});
  add({.name = "EmergencyRuleIsNotForShelters",
       .agency = "safe-home",
       .sector = SH,
       .purpose = v1::EMERGENCY,
       .category = v1::LOCATION,
       .justification = "urgent",
       .reason = v1::NO_MATCHING_RULE});
  add({.name = "EmergencyDoesNotCoverMedical",
       .agency = "metro-pd",
       .sector = LE,
       .purpose = v1::EMERGENCY,
       .category = v1::MEDICAL,
       .justification = "urgent",
       .reason = v1::NO_MATCHING_RULE});
  add({.name = "EmergencyRuleNotForInvestigationPurpose",
       .agency = "metro-pd",
       .sector = LE,
       .purpose = v1::INVESTIGATION,
       .category = v1::LOCATION,
       .justification = "urgent",
       .reason = v1::NO_MATCHING_RULE});
  // Use limits.
  add({.name = "UseLimitReachedDenies",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::LEGAL,
       .consents = {Limited(kLegalAidLr, 3, 86400, 3, kT0 - 100)},
       .reason = v1::CONSENT_USE_LIMIT_REACHED,
       .rule = "legal-representation",
       .consent_id = "c-legal-aid"});
  add({.name = "UseLimitNotYetReachedAllows",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::LEGAL,
       .consents = {Limited(kLegalAidLr, 3, 86400, 2, kT0 - 100)},
       .allowed = true,
       .reason = v1::ALLOWED_BY_CONSENT,
       .rule = "legal-representation"});
  add({.name = "UseLimitWindowOverAllowsAgain",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::LEGAL,
       .consents = {Limited(kLegalAidLr, 3, 86400, 3, kT0 - 86400)},
       .allowed = true,
       .reason = v1::ALLOWED_BY_CONSENT,
       .rule = "legal-representation"});
  add({.name = "LifetimeUseLimitNeverResets",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::LEGAL,
       .consents = {Limited(kLegalAidLr, 1, 0, 1, kT0 - 10 * 86400)},
       .reason = v1::CONSENT_USE_LIMIT_REACHED,
       .rule = "legal-representation"});
  add({.name = "UsedUpConsentReportedOverRevokedOne",
       .agency = "legal-aid",
       .sector = LS,
       .purpose = v1::LEGAL_REPRESENTATION,
       .category = v1::LEGAL,
       .consents = {With(kLegalSectorLr, v1::REVOKED),
                    Limited(kLegalAidLr, 1, 0, 1, kT0)},
       .reason = v1::CONSENT_USE_LIMIT_REACHED,
       .rule = "legal-representation",
       .consent_id = "c-legal-aid"});
  // Shelters and victim services.
  add({.name = "ShelterServiceNeedsWithSectorConsent",
       .agency = "safe-home",
       .sector = SH,
       .purpose = v1::SERVICE_REFERRAL,
       .category = v1::SERVICE_NEEDS,
       .consents = {kShelterSector},
       .allowed = true,
       .reason = v1::ALLOWED_BY_CONSENT,
       .rule = "service-referral",
       .consent_id = "c-shelter"});
  add({.name = "ShelterConsentDoesNotReachVictimServices",
       .agency = "advocates-inc",
       .sector = VS,
       .purpose = v1::SERVICE_REFERRAL,
       .category = v1::SERVICE_NEEDS,
       .consents = {kShelterSector},
       .reason = v1::NO_CONSENT,
       .rule = "service-referral"});
  add({.name = "ShelterCaseStatusForCoordinationNeedsNoConsent",
       .agency = "safe-home",
       .sector = SH,
       .purpose = v1::CASE_COORDINATION,
       .category = v1::CASE_STATUS,
       .allowed = true,
       .reason = v1::ALLOWED_BY_RULE,
       .rule = "case-status-coordination"});
  add({.name = "CategoryPolicyDoesNotMentionIsWithheld",
       .agency = "safe-home",
       .sector = SH,
       .purpose = v1::SERVICE_REFERRAL,
       .category = v1::MENTAL_HEALTH,
       .consents = {kShelterSector},
       .reason = v1::NO_MATCHING_RULE});
  add({.name = "ChildrenNeverMentionedIsWithheld",
       .agency = "advocates-inc",
       .sector = VS,
       .purpose = v1::SAFETY_PLANNING,
       .category = v1::CHILDREN,
       .reason = v1::NO_MATCHING_RULE});
  add({.name = "VictimServicesSafetyPlanningContactWithConsent",
       .agency = "advocates-inc",
       .sector = VS,
       .purpose = v1::SAFETY_PLANNING,
       .category = v1::CONTACT,
       .consents = {Grant("c-vs", "advocates-inc", 0, {v1::SAFETY_PLANNING},
                          {v1::CONTACT})},
       .allowed = true,
       .reason = v1::ALLOWED_BY_CONSENT,
       .rule = "service-referral",
       .consent_id = "c-vs"});
  // Agencies and sectors without rules.
  add({.name = "ChildWelfareHasNoRule",
       .agency = "county-cps",
       .sector = CW,
       .purpose = v1::CASE_COORDINATION,
       .category = v1::CASE_STATUS,
       .reason = v1::NO_MATCHING_RULE});
  add({.name = "ProsecutorHasNoRule",
       .agency = "da-office",
       .sector = PR,
       .purpose = v1::PROSECUTION_PURPOSE,
       .category = v1::LEGAL,
       .reason = v1::NO_MATCHING_RULE});
  add({.name = "UnknownAgencyWithoutSectorGetsNothing",
       .agency = "not-a-member",
       .sector = 0,
       .purpose = v1::CASE_COORDINATION,
       .category = v1::CASE_STATUS,
       .reason = v1::NO_MATCHING_RULE});
  add({.name = "NamedClinicWithConsentGetsMedical",
       .agency = "city-clinic",
       .sector = HE,
       .purpose = v1::SERVICE_REFERRAL,
       .category = v1::MEDICAL,
       .consents = {Grant("c-clinic", "city-clinic", 0, {v1::SERVICE_REFERRAL},
                          {v1::MEDICAL})},
       .allowed = true,
       .reason = v1::ALLOWED_BY_CONSENT,
       .rule = "clinic-medical",
       .consent_id = "c-clinic"});
  add({.name = "OtherClinicNotNamedByRule",
       .agency = "county-clinic",
       .sector = HE,
       .purpose = v1::SERVICE_REFERRAL,
       .category = v1::MEDICAL,
       .consents = {Grant("c-health", "", HE, {v1::SERVICE_REFERRAL},
                          {v1::MEDICAL})},
       .reason = v1::NO_MATCHING_RULE});
  add({.name = "HealthSectorConsentReachesNamedClinic",
       .agency = "city-clinic",
       .sector = HE,
       .purpose = v1::SERVICE_REFERRAL,
       .category = v1::MEDICAL,
       .consents = {Grant("c-health", "", HE, {v1::SERVICE_REFERRAL},
                          {v1::MEDICAL})},
       .allowed = true,
       .reason = v1::ALLOWED_BY_CONSENT,
       .rule = "clinic-medical",
       .consent_id = "c-health"});
  return c;
}

class TaskForceCaseTest : public ::testing::TestWithParam<Case> {};

TEST_P(TaskForceCaseTest, DecidesAsTheProtocolSays) {
  const Case& t = GetParam();
  auto policy = TaskForcePolicy();
  CompiledConsents consents = testing::Compile(t.consents, t.refused);
  FakeClock clock(t.now);
  Evaluator evaluator(&clock);
  const int categories[] = {t.category};
  Request request{.requester_agency = t.agency,
                  .requester_sector = t.sector,
                  .purpose = t.purpose,
                  .categories = categories,
                  .justification = t.justification};
  auto decision = evaluator.Evaluate(*policy, consents, request);
  if (t.error != absl::StatusCode::kOk) {
    EXPECT_THAT(decision, StatusIs(t.error));
    return;
  }
  ASSERT_THAT(decision, IsOk());
  EXPECT_EQ(decision->policy_version(), policy->version());
  ASSERT_EQ(decision->categories_size(), 1);
  const v1::CategoryDecision& d = decision->categories(0);
  EXPECT_EQ(d.category(), t.category);
  EXPECT_EQ(d.allowed(), t.allowed);
  EXPECT_EQ(v1::DecisionReason_Name(d.reason()),
            v1::DecisionReason_Name(t.reason));
  EXPECT_EQ(d.rule(), t.rule);
  if (!t.consent_id.empty()) {
    EXPECT_EQ(d.consent_id(), t.consent_id);
  }
  EXPECT_EQ(d.break_glass(), t.break_glass);
  EXPECT_FALSE(d.explanation().empty());
}

INSTANTIATE_TEST_SUITE_P(TaskForce, TaskForceCaseTest,
                         ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

TEST(EvaluatorTest, AtLeastFortyCases) { EXPECT_GE(Cases().size(), 40u); }

// Break-glass is the one path past a survivor's refusal: a blank or
// one-word reason must not open it.
TEST(EvaluatorTest, SubstantialJustificationOpensEmergencyRules) {
  auto policy = TaskForcePolicy();
  CompiledConsents refused = testing::Compile({}, /*refused=*/true);
  FakeClock clock(kT0);
  Evaluator evaluator(&clock);
  const int categories[] = {v1::LOCATION};
  auto ask = [&](const CompiledPolicy& p, std::string justification) {
    return evaluator.Evaluate(p, refused,
                              Request{.requester_agency = "metro-pd",
                                      .requester_sector = v1::LAW_ENFORCEMENT,
                                      .purpose = v1::EMERGENCY,
                                      .categories = categories,
                                      .justification = justification});
  };
  for (const std::string weak :
       {"", " ", "\t\n ", "urgent", "urgent urgent",
        "xxxxxxxxxxxxxxxxxxxxxxxxx", "1234567890 1234567890 1234",
        "a b c d e f g h i j k l m", "   urgent             "}) {
    EXPECT_THAT(ask(*policy, weak), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("emergency-locate")))
        << "'" << weak << "'";
  }
  for (const std::string real :
       {"credible threat to life, 911 call", "missing person, minor",
        "menace de mort crédible ce soir"}) {
    auto decision = ask(*policy, real);
    ASSERT_THAT(decision, IsOk()) << real;
    EXPECT_TRUE(decision->categories(0).allowed()) << real;
    EXPECT_TRUE(decision->categories(0).break_glass()) << real;
  }

  // A policy may ask for more.
  v1::SharingPolicy stricter = policy->policy();
  stricter.set_min_justification_chars(60);
  auto compiled = CompiledPolicy::Compile(stricter);
  ASSERT_THAT(compiled, IsOk());
  EXPECT_THAT(ask(**compiled, "credible threat to life, 911 call"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("60")));
  EXPECT_THAT(ask(**compiled,
                  "caller reports the survivor was taken from the shelter by "
                  "the trafficker an hour ago"),
              IsOk());
}

// A refusal aimed at one agency overrides that agency's consent only;
// another agency keeps what its consent grants, and the explanation names
// neither the other agency nor the refusal.
TEST(EvaluatorTest, RefusalForOneAgencyDeniesItAndAllowsAnother) {
  auto policy = TaskForcePolicy();
  CompiledConsents consents =
      testing::Compile({kLegalAidLr, kPoliceInvestigation}, false);
  consents.refused_agencies = {"metro-pd"};
  FakeClock clock(kT0);
  Evaluator evaluator(&clock);
  const int police_asks[] = {v1::CONTACT};
  auto police =
      evaluator.Evaluate(*policy, consents,
                         Request{.requester_agency = "metro-pd",
                                 .requester_sector = v1::LAW_ENFORCEMENT,
                                 .purpose = v1::INVESTIGATION,
                                 .categories = police_asks});
  ASSERT_THAT(police, IsOk());
  EXPECT_FALSE(police->categories(0).allowed());
  EXPECT_EQ(police->categories(0).reason(), v1::REFUSED_BY_SURVIVOR);
  EXPECT_EQ(police->categories(0).consent_id(), "");
  EXPECT_THAT(police->categories(0).explanation(),
              HasSubstr("refused sharing with this agency"));
  EXPECT_THAT(police->categories(0).explanation(),
              ::testing::Not(HasSubstr("metro-pd")));

  const int legal_asks[] = {v1::CONTACT, v1::LEGAL};
  auto legal =
      evaluator.Evaluate(*policy, consents,
                         Request{.requester_agency = "legal-aid",
                                 .requester_sector = v1::LEGAL_SERVICES,
                                 .purpose = v1::LEGAL_REPRESENTATION,
                                 .categories = legal_asks});
  ASSERT_THAT(legal, IsOk());
  for (const auto& d : legal->categories()) {
    EXPECT_TRUE(d.allowed()) << v1::Category_Name(d.category());
    EXPECT_EQ(d.reason(), v1::ALLOWED_BY_CONSENT);
    EXPECT_EQ(d.consent_id(), "c-legal-aid");
    EXPECT_THAT(d.explanation(), ::testing::Not(HasSubstr("metro-pd")));
    EXPECT_THAT(d.explanation(), ::testing::Not(HasSubstr("refus")));
  }

  // Emergency rules still pass it, as they pass a refusal of everyone.
  const int emergency_asks[] = {v1::LOCATION};
  auto emergency = evaluator.Evaluate(
      *policy, consents,
      Request{.requester_agency = "metro-pd",
              .requester_sector = v1::LAW_ENFORCEMENT,
              .purpose = v1::EMERGENCY,
              .categories = emergency_asks,
              .justification = "credible threat to life, 911 call"});
  ASSERT_THAT(emergency, IsOk());
  EXPECT_TRUE(emergency->categories(0).break_glass());

  // Without the agency refusal the police consent is used again.
  consents.refused_agencies.clear();
  auto lifted =
      evaluator.Evaluate(*policy, consents,
                         Request{.requester_agency = "metro-pd",
                                 .requester_sector = v1::LAW_ENFORCEMENT,
                                 .purpose = v1::INVESTIGATION,
                                 .categories = police_asks});
  ASSERT_THAT(lifted, IsOk());
  EXPECT_TRUE(lifted->categories(0).allowed());
}

TEST(EvaluatorTest, MixedRequestOnlyAllowsWhatIsNeeded) {
  auto policy = TaskForcePolicy();
  CompiledConsents consents = testing::Compile({kPoliceInvestigation}, false);
  FakeClock clock(kT0);
  Evaluator evaluator(&clock);
  const int categories[] = {v1::CONTACT, v1::IMMIGRATION, v1::MEDICAL,
                            v1::CASE_STATUS};
  auto decision =
      evaluator.Evaluate(*policy, consents,
                         Request{.requester_agency = "metro-pd",
                                 .requester_sector = v1::LAW_ENFORCEMENT,
                                 .purpose = v1::INVESTIGATION,
                                 .categories = categories});
  ASSERT_THAT(decision, IsOk());
  ASSERT_EQ(decision->categories_size(), 4);
  EXPECT_TRUE(decision->categories(0).allowed());
  EXPECT_EQ(decision->categories(1).reason(), v1::DENIED_BY_RULE);
  EXPECT_EQ(decision->categories(2).reason(), v1::NO_MATCHING_RULE);
  EXPECT_TRUE(decision->categories(3).allowed());
  EXPECT_THAT(decision->categories(1).explanation(),
              HasSubstr("no-immigration-to-police"));
}

TEST(EvaluatorTest, MissingJustificationNamesTheEmergencyRule) {
  auto policy = TaskForcePolicy();
  FakeClock clock(kT0);
  Evaluator evaluator(&clock);
  const int categories[] = {v1::CASE_STATUS, v1::LOCATION};
  auto decision =
      evaluator.Evaluate(*policy, CompiledConsents{},
                         Request{.requester_agency = "metro-pd",
                                 .requester_sector = v1::LAW_ENFORCEMENT,
                                 .purpose = v1::EMERGENCY,
                                 .categories = categories});
  EXPECT_THAT(decision, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(decision.status().message()),
              HasSubstr("emergency-locate"));
}

TEST(EvaluatorTest, UnknownPurposeOrCategoryIsInvalidArgument) {
  auto policy = TaskForcePolicy();
  FakeClock clock(kT0);
  Evaluator evaluator(&clock);
  const int good[] = {v1::CONTACT};
  const int bad[] = {v1::CONTACT, 999};
  const int unspecified[] = {v1::CATEGORY_UNSPECIFIED};
  EXPECT_THAT(evaluator.Evaluate(*policy, CompiledConsents{},
                                 Request{.requester_agency = "legal-aid",
                                         .requester_sector = v1::LEGAL_SERVICES,
                                         .purpose = 0,
                                         .categories = good}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(evaluator.Evaluate(*policy, CompiledConsents{},
                                 Request{.requester_agency = "legal-aid",
                                         .requester_sector = v1::LEGAL_SERVICES,
                                         .purpose = 4000,
                                         .categories = good}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(evaluator.Evaluate(*policy, CompiledConsents{},
                                 Request{.requester_agency = "legal-aid",
                                         .requester_sector = v1::LEGAL_SERVICES,
                                         .purpose = v1::LEGAL_REPRESENTATION,
                                         .categories = bad}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(evaluator.Evaluate(*policy, CompiledConsents{},
                                 Request{.requester_agency = "legal-aid",
                                         .requester_sector = 77,
                                         .purpose = v1::LEGAL_REPRESENTATION,
                                         .categories = unspecified}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PolicyHolderTest, BadReplacementKeepsTheOldPolicy) {
  PolicyHolder holder;
  EXPECT_EQ(holder.Get(), nullptr);
  auto first = holder.Load(kTaskForcePolicy, PolicyFormat::kTextProto, "first");
  ASSERT_THAT(first, IsOk());
  auto snapshot = holder.Get();
  EXPECT_EQ(snapshot, *first);
  EXPECT_THAT(holder.Load("agency_id: \"x\" rules { name: \"r\" }",
                          PolicyFormat::kTextProto, "bad"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(holder.Get(), snapshot);
  auto second = holder.Load(
      R"pb(agency_id: "safe-harbor"
           rules {
             name: "only"
             effect: PERMIT
             requester { sectors: SHELTER }
             purposes: CASE_COORDINATION
             categories: CASE_STATUS
           })pb",
      PolicyFormat::kTextProto, "second");
  ASSERT_THAT(second, IsOk());
  EXPECT_NE(holder.Get(), snapshot);
  EXPECT_NE((*second)->version(), snapshot->version());
  // The reader's old snapshot is untouched.
  EXPECT_EQ(snapshot->policy().rules_size(), 8);
}

}  // namespace
}  // namespace haven::policy
