#include "server/federation/manifest_update.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/verify/signed_manifest.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_log.h"
#include "tests/testing/test_manifest.h"
#include "tests/testing/test_operator_key.h"

namespace haven::server::federation {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::haven::testing::TestManifest;
using ::haven::testing::TestMember;
using ::haven::testing::TestOperatorKey;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// The task force's operators: two of alice, bob and carol must sign.
class ManifestUpdateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = haven::testing::TestLog::Create("safe-harbor");
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    auto trust = client::ParseManifestTrust(
        {alice_.verifier_key(), bob_.verifier_key(), carol_.verifier_key()}, 2);
    ASSERT_THAT(trust, IsOk());
    trust_ = *std::move(trust);
    Write(BothSign(Text(1, {{"safe-harbor"}, {"legal-aid"}, {"metro-pd"}})));
    OpenRegistry();
  }

  void OpenRegistry() {
    auto registry =
        FederationRegistry::Create({path_, trust_, &log_->storage()});
    ASSERT_THAT(registry, IsOk());
    registry_ = *std::move(registry);
    registry_->SetInstallListener(
        [this](const std::shared_ptr<const Manifest>&,
               const std::shared_ptr<const Manifest>& after) {
          installed_.push_back(after->serial());
        });
    updater_ = std::make_unique<ManifestUpdater>(
        ManifestUpdater::Deps{registry_.get(), &log_->recorder()});
  }

  static std::string Text(uint64_t serial,
                          const std::vector<TestMember>& members,
                          const std::string& federation = "test") {
    haven::v1::FederationManifest proto =
        TestManifest(members, serial)->proto();
    proto.set_federation(federation);
    return proto.DebugString();
  }
  std::string BothSign(const std::string& text) const {
    return bob_.AddSignature(alice_.Sign(text));
  }
  void Write(const std::string& note) {
    std::ofstream(path_, std::ios::trunc) << note;
  }
  // The entries written since the log had `size` of them.
  std::vector<haven::v1::AuditEntry> EntriesSince(uint64_t size) {
    std::vector<haven::v1::AuditEntry> out;
    auto entries = log_->log().GetEntries(size, log_->log().Size() - size);
    EXPECT_THAT(entries, IsOk());
    if (entries.ok()) {
      for (const auto& indexed : *entries) out.push_back(indexed.entry());
    }
    return out;
  }

  TestOperatorKey alice_{"op-alice"};
  TestOperatorKey bob_{"op-bob"};
  TestOperatorKey carol_{"op-carol"};
  client::ManifestTrust trust_;
  haven::testing::TempDir dir_;
  const std::string path_ = dir_.Join("federation.signed");
  std::unique_ptr<haven::testing::TestLog> log_;
  std::unique_ptr<FederationRegistry> registry_;
  std::unique_ptr<ManifestUpdater> updater_;
  std::vector<uint64_t> installed_;
};

MATCHER_P2(EntryIs, kind, agency, "") {
  return arg.kind() == kind && arg.agency_id() == agency;
}

TEST_F(ManifestUpdateTest,
       AppliedManifestIsLoggedMemberByMemberAndOutlivesTheFile) {
  const std::string note = BothSign(Text(
      2, {{"safe-harbor"},
          {"legal-aid", haven::v1::LEGAL_SERVICES, haven::v1::MEMBER_SUSPENDED},
          {"clinic"}}));
  Write(note);
  const uint64_t before = log_->log().Size();
  auto applied = updater_->ReloadFile("admin");
  ASSERT_THAT(applied, IsOk());
  EXPECT_EQ(registry_->current()->serial(), 2u);
  EXPECT_EQ(installed_, std::vector<uint64_t>{2});

  std::vector<haven::v1::AuditEntry> logged = EntriesSince(before);
  ASSERT_THAT(logged,
              ElementsAre(EntryIs(haven::v1::MANIFEST_APPLIED, "safe-harbor"),
                          EntryIs(haven::v1::MEMBERSHIP_SUSPENDED, "legal-aid"),
                          EntryIs(haven::v1::MEMBER_CHANGED, "legal-aid"),
                          EntryIs(haven::v1::MEMBERSHIP_JOINED, "clinic"),
                          EntryIs(haven::v1::MEMBERSHIP_REMOVED, "metro-pd")));
  EXPECT_THAT(
      logged[0].detail(),
      HasSubstr("manifest serial 2, sha256 " + (*applied)->note_sha256() +
                ", 3 members, signed by op-alice, op-bob"));
  EXPECT_EQ(logged[0].principal(), "admin");
  EXPECT_EQ(logged[1].detail(), "serial 2");
  EXPECT_EQ(logged[2].detail(), "serial 2: sector changed");

  // The file goes back to serial 1 (an operator's mistake, a restored
  // config): the node starts from the serial 2 it applied.
  Write(BothSign(Text(1, {{"safe-harbor"}, {"legal-aid"}, {"metro-pd"}})));
  OpenRegistry();
  EXPECT_EQ(registry_->current()->serial(), 2u);
  EXPECT_EQ(registry_->current()->note_sha256(), (*applied)->note_sha256());
  EXPECT_EQ(registry_->current()->Find("legal-aid")->status(),
            haven::v1::MEMBER_SUSPENDED);
}

TEST_F(ManifestUpdateTest,
       EachRefusedManifestIsLoggedWithItsReasonWhetherReloadedOrRelayed) {
  TestOperatorKey mallory("op-mallory");
  const std::string serial2 = Text(2, {{"safe-harbor"}});
  std::string flipped = BothSign(serial2);
  // One bit of alice's signature, flipped in the decoded bytes: flipping a
  // base64 character instead can make it no base64 at all, which is a
  // different refusal.
  {
    const std::string prefix = "— op-alice ";
    const size_t start = flipped.find(prefix) + prefix.size();
    const size_t end = flipped.find('\n', start);
    std::string raw;
    ASSERT_TRUE(
        absl::Base64Unescape(flipped.substr(start, end - start), &raw));
    raw[raw.size() / 2] ^= 0x01;  // past the 4-byte key hash
    flipped.replace(start, end - start, absl::Base64Escape(raw));
  }
  const struct {
    std::string note;
    std::string reason;
  } kCases[] = {
      {flipped, "invalid signature by federation key op-alice"},
      {alice_.Sign(serial2), "signed by 1 of the 2 federation keys required"},
      {mallory.AddSignature(alice_.Sign(serial2)),
       "signed by 1 of the 2 federation keys required (op-alice)"},
      {BothSign(Text(9, {{"safe-harbor"}}, "another-task-force")),
       "of federation 'another-task-force'"},
      {BothSign(Text(1, {{"safe-harbor"}})),
       "manifest serial 1 is not above the serial in force (1)"},
      {serial2, "is not a signed manifest"},
  };
  // Each by an admin's reload of the file, then as a peer relayed it.
  for (const bool relayed : {false, true}) {
    for (const auto& c : kCases) {
      SCOPED_TRACE(
          absl::StrCat(relayed ? "relayed: " : "reloaded: ", c.reason));
      Write(c.note);
      const uint64_t before = log_->log().Size();
      EXPECT_THAT(
          relayed ? updater_->OfferFromPeer("legal-aid", c.note)
                  : updater_->ReloadFile("admin"),
          StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(c.reason)));
      std::vector<haven::v1::AuditEntry> logged = EntriesSince(before);
      ASSERT_THAT(logged,
                  ElementsAre(EntryIs(haven::v1::MANIFEST_REFUSED,
                                      relayed ? "legal-aid" : "safe-harbor")));
      EXPECT_THAT(logged[0].detail(), HasSubstr(c.reason));
      EXPECT_EQ(logged[0].principal(), relayed ? "havend" : "admin");
      EXPECT_EQ(registry_->current()->serial(), 1u);
      EXPECT_EQ(registry_->current()->proto().members_size(), 3);
    }
  }
  EXPECT_TRUE(installed_.empty());
}

TEST_F(ManifestUpdateTest,
       PeerRelayedManifestIsCheckedAndARepeatedRefusalLoggedOnce) {
  const std::string forged = alice_.Sign(Text(5, {{"safe-harbor"}}));
  uint64_t before = log_->log().Size();
  for (int round = 0; round < 3; ++round) {
    EXPECT_THAT(updater_->OfferFromPeer("legal-aid", forged),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("signed by 1 of the 2")));
  }
  ASSERT_THAT(EntriesSince(before),
              ElementsAre(EntryIs(haven::v1::MANIFEST_REFUSED, "legal-aid")));
  EXPECT_EQ(registry_->current()->serial(), 1u);

  const std::string serial2 = BothSign(Text(
      2,
      {{"safe-harbor"},
       {"legal-aid"},
       {"metro-pd", haven::v1::VICTIM_SERVICES, haven::v1::MEMBER_SUSPENDED}}));
  before = log_->log().Size();
  ASSERT_THAT(updater_->OfferFromPeer("legal-aid", serial2), IsOk());
  std::vector<haven::v1::AuditEntry> logged = EntriesSince(before);
  ASSERT_THAT(
      logged,
      ElementsAre(EntryIs(haven::v1::MANIFEST_APPLIED, "legal-aid"),
                  EntryIs(haven::v1::MEMBERSHIP_SUSPENDED, "metro-pd")));
  EXPECT_THAT(logged[0].detail(), HasSubstr("from peer legal-aid"));
  EXPECT_EQ(logged[0].principal(), "havend");

  // The same manifest from another peer is no news.
  before = log_->log().Size();
  EXPECT_THAT(updater_->OfferFromPeer("metro-pd", serial2), IsOk());
  EXPECT_EQ(log_->log().Size(), before);
  EXPECT_EQ(installed_, std::vector<uint64_t>{2});
}

TEST_F(ManifestUpdateTest,
       ManifestThatCannotBeLoggedIsNeitherInstalledNorKept) {
  Write(BothSign(Text(2, {{"safe-harbor"}})));
  log_->storage().FailWriteAt(log_->storage().writes());
  EXPECT_THAT(updater_->ReloadFile("admin"), Not(IsOk()));
  EXPECT_EQ(registry_->current()->serial(), 1u);
  EXPECT_TRUE(installed_.empty());
}

// A disk whose sync fails after the bytes reached it: the caller was told
// the manifest was not applied, so a restart must not start from it. The
// log voids the commit and puts back the manifest kept before.
TEST_F(ManifestUpdateTest, ManifestWhoseSyncFailedIsNotKeptAfterARestart) {
  Write(BothSign(Text(2, {{"safe-harbor"}, {"legal-aid"}})));
  auto serial2 = updater_->ReloadFile("admin");
  ASSERT_THAT(serial2, IsOk());

  Write(BothSign(Text(3, {{"safe-harbor"}})));
  log_->storage().FailSyncAt(log_->storage().writes());
  EXPECT_THAT(updater_->ReloadFile("admin"), Not(IsOk()));
  EXPECT_EQ(registry_->current()->serial(), 2u);

  ASSERT_THAT(
      log_->Restart(haven::testing::FaultInjectingStorage::Unsynced::kKeep),
      IsOk());
  EXPECT_TRUE(log_->log().recovery().unconfirmed_commit);
  // The file goes back to serial 1, so only what the node kept can say 3.
  Write(BothSign(Text(1, {{"safe-harbor"}, {"legal-aid"}, {"metro-pd"}})));
  OpenRegistry();
  EXPECT_EQ(registry_->current()->serial(), 2u);
  EXPECT_EQ(registry_->current()->note_sha256(), (*serial2)->note_sha256());
}

TEST_F(ManifestUpdateTest, FirstStartLogsEveryMemberAsJoinedOnce) {
  uint64_t before = log_->log().Size();
  ASSERT_THAT(updater_->RecordStart(), IsOk());
  std::vector<haven::v1::AuditEntry> logged = EntriesSince(before);
  ASSERT_THAT(logged,
              ElementsAre(EntryIs(haven::v1::MANIFEST_APPLIED, "safe-harbor"),
                          EntryIs(haven::v1::MEMBERSHIP_JOINED, "safe-harbor"),
                          EntryIs(haven::v1::MEMBERSHIP_JOINED, "legal-aid"),
                          EntryIs(haven::v1::MEMBERSHIP_JOINED, "metro-pd")));
  EXPECT_THAT(logged[0].detail(),
              HasSubstr("from the manifest file, at start"));

  // Started again with the same file: nothing new to log.
  OpenRegistry();
  before = log_->log().Size();
  ASSERT_THAT(updater_->RecordStart(), IsOk());
  EXPECT_EQ(log_->log().Size(), before);
}

}  // namespace
}  // namespace haven::server::federation
