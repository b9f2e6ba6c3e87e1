#include "policy/loader.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/compiled_policy.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/policy/test_policy.h"

namespace haven::policy {
namespace {

using haven::testing::IsOk;
using haven::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string Message(const absl::Status& status) {
  return std::string(status.message());
}

TEST(LoaderTest, ExamplePoliciesLoadAndValidate) {
  for (const char* name : {"safe-harbor", "legal-aid", "metro-pd"}) {
    SCOPED_TRACE(name);
    auto loaded = LoadPolicyFile(std::string(HAVEN_SOURCE_DIR) +
                                 "/policy/examples/" + name + ".textproto");
    ASSERT_THAT(loaded, IsOk());
    EXPECT_EQ(loaded->policy.agency_id(), name);
    EXPECT_THAT(loaded->warnings, IsEmpty());
    EXPECT_EQ(loaded->version.size(), 64u);
    EXPECT_THAT(CompiledPolicy::Compile(loaded->policy), IsOk());
  }
}

TEST(LoaderTest, SyntaxErrorGivesFileLineAndColumn) {
  auto loaded = LoadPolicy(
      "agency_id: \"a\"\nrules {\n  name: \"x\"\n  effect: PERMT\n}\n",
      PolicyFormat::kTextProto, "bad.textproto");
  ASSERT_THAT(loaded, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Message(loaded.status()),
              AllOf(HasSubstr("bad.textproto:4:"), HasSubstr("PERMT")));
}

TEST(LoaderTest, UnknownFieldIsASyntaxError) {
  auto loaded = LoadPolicy("agency_id: \"a\"\nrulez {}\n",
                           PolicyFormat::kTextProto, "p.textproto");
  ASSERT_THAT(loaded, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Message(loaded.status()), HasSubstr("p.textproto:2:"));
}

TEST(LoaderTest, UnknownCategoryNameIsRejectedWithItsLine) {
  auto loaded = LoadPolicy(
      "agency_id: \"a\"\nrules {\n name: \"r\"\n effect: PERMIT\n"
      " requester { sectors: SHELTER }\n purposes: CASE_COORDINATION\n"
      " categories: SHOE_SIZE\n}\n",
      PolicyFormat::kTextProto, "p.textproto");
  ASSERT_THAT(loaded, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Message(loaded.status()),
              AllOf(HasSubstr("p.textproto:7:"), HasSubstr("SHOE_SIZE")));
}

struct SemanticCase {
  const char* name;
  const char* text;
  const char* expected;  // substring: line, rule and field
};

class SemanticErrorTest : public ::testing::TestWithParam<SemanticCase> {};

TEST_P(SemanticErrorTest, NamesRuleFieldAndLine) {
  auto loaded =
      LoadPolicy(GetParam().text, PolicyFormat::kTextProto, "p.textproto");
  ASSERT_THAT(loaded, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Message(loaded.status()), HasSubstr(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Loader, SemanticErrorTest,
    ::testing::Values(
        SemanticCase{"EmptyAgency", "label: \"x\"\n",
                     "p.textproto: agency_id: must be set"},
        SemanticCase{"RuleWithoutName",
                     "agency_id: \"a\"\nrules {\n effect: PERMIT\n"
                     " requester { sectors: SHELTER }\n purposes: "
                     "CASE_COORDINATION\n categories: CASE_STATUS\n}\n",
                     "p.textproto:2: rules[0]: name: must be set"},
        SemanticCase{"DuplicateName",
                     "agency_id: \"a\"\n"
                     "rules { name: \"r\" effect: PERMIT requester { sectors: "
                     "SHELTER } purposes: CASE_COORDINATION categories: "
                     "CASE_STATUS }\n"
                     "rules {\n name: \"r\" effect: PERMIT requester { "
                     "sectors: SHELTER } purposes: CASE_COORDINATION "
                     "categories: CASE_STATUS }\n",
                     "p.textproto:4: rule 'r': name: duplicates"},
        SemanticCase{"UnspecifiedEffect",
                     "agency_id: \"a\"\nrules {\n name: \"r\"\n requester { "
                     "sectors: SHELTER }\n purposes: CASE_COORDINATION\n "
                     "categories: CASE_STATUS\n}\n",
                     "p.textproto:2: rule 'r': effect:"},
        SemanticCase{"EmptyRequester",
                     "agency_id: \"a\"\nrules {\n name: \"r\"\n effect: "
                     "PERMIT\n purposes: CASE_COORDINATION\n categories: "
                     "CASE_STATUS\n}\n",
                     "rule 'r': requester: must list"},
        SemanticCase{
            "UnspecifiedSector",
            "agency_id: \"a\"\nrules {\n name: \"r\"\n effect: "
            "PERMIT\n requester { sectors: SECTOR_UNSPECIFIED }\n "
            "purposes: CASE_COORDINATION\n categories: CASE_STATUS\n}\n",
            "p.textproto:5: rule 'r': requester:"},
        SemanticCase{"NoPurposes",
                     "agency_id: \"a\"\nrules {\n name: \"r\"\n effect: "
                     "PERMIT\n requester { sectors: SHELTER }\n categories: "
                     "CASE_STATUS\n}\n",
                     "rule 'r': purposes: must list"},
        SemanticCase{"UnspecifiedPurpose",
                     "agency_id: \"a\"\nrules {\n name: \"r\"\n effect: "
                     "PERMIT\n requester { sectors: SHELTER }\n purposes: "
                     "PURPOSE_UNSPECIFIED\n categories: CASE_STATUS\n}\n",
                     "p.textproto:6: rule 'r': purposes:"},
        SemanticCase{"NoCategories",
                     "agency_id: \"a\"\nrules {\n name: \"r\"\n effect: "
                     "PERMIT\n requester { sectors: SHELTER }\n purposes: "
                     "CASE_COORDINATION\n}\n",
                     "rule 'r': categories: must list"},
        SemanticCase{"NumericUnknownCategory",
                     "agency_id: \"a\"\nrules {\n name: \"r\"\n effect: "
                     "PERMIT\n requester { sectors: SHELTER }\n purposes: "
                     "CASE_COORDINATION\n categories: 99\n}\n",
                     "p.textproto:7: rule 'r': categories: unknown"},
        SemanticCase{"ConsentOnDeny",
                     "agency_id: \"a\"\nrules {\n name: \"r\"\n effect: "
                     "DENY\n requester { sectors: SHELTER }\n purposes: "
                     "CASE_COORDINATION\n categories: CASE_STATUS\n"
                     " requires_consent: true\n}\n",
                     "p.textproto:8: rule 'r': requires_consent:"}),
    [](const ::testing::TestParamInfo<SemanticCase>& info) {
      return std::string(info.param.name);
    });

TEST(LoaderTest, ShadowedPermitIsAWarningNotAnError) {
  auto loaded = LoadPolicy(
      R"pb(agency_id: "a"
           rules {
             name: "deny-all-contact"
             effect: DENY
             requester { sectors: [ SHELTER, HEALTH ] }
             purposes: [ SERVICE_REFERRAL, CASE_COORDINATION ]
             categories: [ CONTACT, LOCATION ]
           }
           rules {
             name: "shadowed"
             effect: PERMIT
             requester { sectors: SHELTER }
             purposes: SERVICE_REFERRAL
             categories: CONTACT
           }
           rules {
             name: "partly-open"
             effect: PERMIT
             requester { sectors: SHELTER }
             purposes: SERVICE_REFERRAL
             categories: [ CONTACT, CASE_STATUS ]
           })pb",
      PolicyFormat::kTextProto, "p.textproto");
  ASSERT_THAT(loaded, IsOk());
  ASSERT_EQ(loaded->warnings.size(), 1u);
  EXPECT_THAT(loaded->warnings[0], AllOf(HasSubstr("rule 'shadowed'"),
                                         HasSubstr("shadowed by deny")));
}

TEST(LoaderTest, JsonPolicyLoadsAndHasTheSameVersionAsText) {
  const char* json = R"({
    "agencyId": "a",
    "rules": [{"name": "r", "effect": "PERMIT",
               "requester": {"sectors": ["SHELTER"]},
               "purposes": ["CASE_COORDINATION"],
               "categories": ["CASE_STATUS"]}]})";
  auto from_json = LoadPolicy(json, PolicyFormat::kJson, "p.json");
  ASSERT_THAT(from_json, IsOk());
  auto from_text = LoadPolicy(
      "agency_id: 'a' rules { name: 'r' effect: PERMIT requester { sectors: "
      "SHELTER } purposes: CASE_COORDINATION categories: CASE_STATUS }",
      PolicyFormat::kTextProto, "p.textproto");
  ASSERT_THAT(from_text, IsOk());
  EXPECT_EQ(from_json->version, from_text->version);
}

TEST(LoaderTest, BadJsonNamesTheSource) {
  auto loaded = LoadPolicy(
      "{\"agencyId\": \"a\", \"rules\": [{\"effect\": "
      "\"MAYBE\"}]}",
      PolicyFormat::kJson, "p.json");
  ASSERT_THAT(loaded, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Message(loaded.status()), HasSubstr("p.json: "));
}

TEST(LoaderTest, VersionChangesWithAnyRuleChange) {
  auto a = LoadPolicy(testing::kTaskForcePolicy, PolicyFormat::kTextProto, "a");
  ASSERT_THAT(a, IsOk());
  haven::v1::SharingPolicy changed = a->policy;
  changed.mutable_rules(2)->set_requires_consent(false);
  EXPECT_NE(PolicyVersion(changed), a->version);
  EXPECT_EQ(PolicyVersion(a->policy), a->version);
}

TEST(LoaderTest, MissingFileIsNotFound) {
  EXPECT_THAT(LoadPolicyFile("/nonexistent/haven/policy.textproto"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(LoaderTest, EveryPrefixOfAPolicyFailsCleanlyOrLoads) {
  const std::string text = testing::kTaskForcePolicy;
  for (size_t n = 0; n <= text.size(); n += 7) {
    auto loaded =
        LoadPolicy(text.substr(0, n), PolicyFormat::kTextProto, "prefix");
    if (!loaded.ok()) {
      EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(Message(loaded.status()), HasSubstr("prefix"));
    }
    auto json = LoadPolicy(text.substr(0, n), PolicyFormat::kJson, "prefix");
    EXPECT_FALSE(json.ok());
  }
}

}  // namespace
}  // namespace haven::policy
