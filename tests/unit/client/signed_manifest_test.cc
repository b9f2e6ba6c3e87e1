#include "client/verify/signed_manifest.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace haven::client {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::FieldsAre;
using ::testing::HasSubstr;

const std::string kKeyA = *FormatVerifierKey("op-a", std::string(32, 'a'));
const std::string kKeyB = *FormatVerifierKey("op-b", std::string(32, 'b'));

TEST(ManifestTrustTest, KOfNIsCheckedAgainstTheKeysGiven) {
  auto trust = ParseManifestTrust({kKeyA, kKeyB}, 2);
  ASSERT_THAT(trust, IsOk());
  EXPECT_EQ(trust->required, 2);
  EXPECT_EQ(trust->keys.size(), 2u);
  auto one = ParseManifestTrust({kKeyA}, 0);
  ASSERT_THAT(one, IsOk());
  EXPECT_EQ(one->required, 1);

  EXPECT_THAT(ParseManifestTrust({kKeyA, kKeyB}, 3),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("3 manifest signatures required but only 2")));
  EXPECT_THAT(ParseManifestTrust({}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no federation verifier key")));
  EXPECT_THAT(ParseManifestTrust({kKeyA, kKeyA}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("two federation verifier keys are named")));
  EXPECT_THAT(ParseManifestTrust({"op-a+00000000+AQ=="}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("federation verifier key")));
}

haven::v1::FederationManifest Manifest(
    const std::vector<std::pair<std::string, haven::v1::MemberStatus>>& members,
    const std::string& endpoint_of_b = "127.0.0.1:2") {
  haven::v1::FederationManifest manifest;
  manifest.set_federation("test");
  int n = 0;
  for (const auto& [id, status] : members) {
    haven::v1::Member* m = manifest.add_members();
    m->set_agency_id(id);
    m->set_sector(haven::v1::SHELTER);
    m->set_status(status);
    m->set_endpoint(id == "b" ? endpoint_of_b : "127.0.0.1:1");
    m->set_cert_sha256(std::string(64, static_cast<char>('a' + n++)));
  }
  return manifest;
}

TEST(DiffManifestsTest, NamesEachMembershipChange) {
  using Kind = MemberChange::Kind;
  const auto before = Manifest({{"a", haven::v1::MEMBER_ACTIVE},
                                {"b", haven::v1::MEMBER_ACTIVE},
                                {"c", haven::v1::MEMBER_SUSPENDED},
                                {"d", haven::v1::MEMBER_ACTIVE}});
  const auto after = Manifest({{"a", haven::v1::MEMBER_ACTIVE},
                               {"b", haven::v1::MEMBER_SUSPENDED},
                               {"c", haven::v1::MEMBER_ACTIVE},
                               {"e", haven::v1::MEMBER_SUSPENDED}},
                              "127.0.0.1:9");
  EXPECT_THAT(
      DiffManifests(&before, after),
      ElementsAre(FieldsAre(Kind::kSuspended, "b", ElementsAre()),
                  FieldsAre(Kind::kChanged, "b", ElementsAre("endpoint")),
                  FieldsAre(Kind::kReinstated, "c", ElementsAre()),
                  FieldsAre(Kind::kJoined, "e", ElementsAre("status")),
                  FieldsAre(Kind::kRemoved, "d", ElementsAre())));
  EXPECT_THAT(DiffManifests(nullptr, before), ::testing::SizeIs(4));
  EXPECT_THAT(DiffManifests(&before, before), ::testing::IsEmpty());
}

TEST(ManifestNoteTest, TextStartsWithTheHeaderAndReadsBack) {
  const auto manifest = Manifest({{"a", haven::v1::MEMBER_ACTIVE}});
  const std::string text = ManifestNoteText(manifest);
  EXPECT_EQ(text.rfind("haven federation manifest v1\n", 0), 0u);
  EXPECT_EQ(text.find("\n\n"), std::string::npos);
  auto read = ParseManifestNoteText(text, "test");
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->SerializeAsString(), manifest.SerializeAsString());
  // A checkpoint's text (or anything else) is not a manifest's.
  EXPECT_THAT(ParseManifestNoteText("safe-harbor.haven/log\n1\nAAAA\n", "x"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("does not start with")));
  EXPECT_THAT(
      ReadManifestNote(std::string(2 * 1024 * 1024, 'a'), "big"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("larger than")));
}

}  // namespace
}  // namespace haven::client
