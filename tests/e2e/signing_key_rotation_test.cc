// End-to-end test of a node signing-key rotation: two real havend
// processes on 127.0.0.1. safe-harbor (victim services, policy from
// policy/examples) holds a survivor's records and discloses to legal-aid;
// its admin rotates its signing key with `havenctl admin rotate-signing-key`,
// the task force lists the next key in the manifest, and disclosures, the
// requester's checks and `havenctl audit verify` carry on across the switch.
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/verify/signed_note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/v1/audit.grpc.pb.h"
#include "tests/testing/federation_calls.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_federation.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kHolder[] = "safe-harbor";
constexpr char kLegalAid[] = "legal-aid";

class SigningKeyRotationTest : public ::testing::Test, public FederationCalls {
 protected:
  SigningKeyRotationTest() : FederationCalls(kHolder) {}

  void SetUp() override {
    federation_ = std::make_unique<TestFederation>(dir_.path());
    set_federation(federation_.get());
    std::string error;
    ASSERT_TRUE(federation_->Create({ExampleMember(kHolder, "VICTIM_SERVICES"),
                                     {kLegalAid, "LEGAL_SERVICES", ""}},
                                    &error))
        << error;
    ASSERT_TRUE(federation_->Start(&error)) << error;
    Connect(kHolder);
    Connect(kLegalAid);
  }

  int Ctl(const std::string& agency, const std::string& role,
          const std::vector<std::string>& args, std::string* out) {
    return federation_->node(agency).Havenctl(role, args, out);
  }

  // legal-aid asks for the survivor's phone through its own node, which
  // checks the holder's signature, checkpoint and proof before it answers.
  void ExpectDisclosure(const std::string& handle) {
    haven::v1::RequestDisclosureResponse response;
    grpc::Status status =
        Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                {haven::v1::CONTACT}, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.fields_size(), 1);
    EXPECT_EQ(response.fields(0).value(), "555-0100 (after 6pm)");
  }

  // The holder's latest checkpoint and the key it reports.
  haven::v1::GetCheckpointResponse Checkpoint() {
    auto audit = haven::v1::AuditService::NewStub(channel(kHolder));
    haven::v1::GetCheckpointResponse response;
    grpc::Status status =
        audit->GetCheckpoint(Call(kHolder, "auditor").get(),
                             haven::v1::GetCheckpointRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  static bool SignedBy(const std::string& note, const std::string& vkey) {
    auto key = client::ParseVerifierKey(vkey);
    return key.ok() &&
           client::VerifyCheckpoint(note, *key, client::LogOrigin(kHolder))
               .ok();
  }

  // Adds `next_verifier_key` to the holder's member entry, raises the
  // serial, and reloads the manifest on both nodes.
  void PublishNextKey(const std::string& next_key) {
    std::string text = federation_->manifest_text();
    const std::string marker = absl::StrCat("agency_id: \"", kHolder, "\"");
    const size_t at = text.find(marker);
    ASSERT_NE(at, std::string::npos);
    text.insert(at, absl::StrCat("next_verifier_key: \"", next_key, "\"\n  "));
    std::smatch serial;
    ASSERT_TRUE(std::regex_search(text, serial, std::regex("serial: (\\d+)")));
    const uint64_t next_serial = std::stoull(serial[1].str()) + 1;
    text = std::regex_replace(text, std::regex("serial: \\d+"),
                              absl::StrCat("serial: ", next_serial));
    federation_->WriteManifest(text);
    for (const char* agency : {kHolder, kLegalAid}) {
      std::string out;
      if (Ctl(agency, "admin", {"admin", "reload-manifest"}, &out) != 0) {
        // Refused as not newer: the other node's gossip brought it first.
        ASSERT_EQ(Ctl(agency, "admin", {"admin", "status"}, &out), 0) << out;
      }
      EXPECT_THAT(out, HasSubstr(absl::StrCat("serial ", next_serial)))
          << agency;
    }
  }

  TempDir dir_;
  std::unique_ptr<TestFederation> federation_;
};

TEST_F(SigningKeyRotationTest,
       DisclosuresAndAuditVerifyCarryOnAcrossTheSwitch) {
  const std::string old_key = federation_->verifier_key(kHolder);
  const std::string subject = CreateSubject(
      {NewField("phone", haven::v1::CONTACT, "555-0100 (after 6pm)")});
  const std::string handle = ConsentAndWaitForHandle(
      subject, kLegalAid, haven::v1::LEGAL_REPRESENTATION,
      {haven::v1::CONTACT});
  ASSERT_FALSE(handle.empty());

  // Before the switch: disclosed, and the auditor pins the old key's
  // checkpoint.
  ExpectDisclosure(handle);
  const std::string state = dir_.Join("auditor.state");
  std::string out;
  ASSERT_EQ(Ctl(kHolder, "auditor",
                {"audit", "verify", "--state", state, "--key", old_key}, &out),
            0)
      << out;
  const haven::v1::GetCheckpointResponse before = Checkpoint();
  EXPECT_TRUE(SignedBy(before.checkpoint().note(), old_key));

  // Only an admin rotates.
  EXPECT_NE(Ctl(kHolder, "auditor", {"admin", "rotate-signing-key"}, &out), 0);
  ASSERT_EQ(Ctl(kHolder, "admin", {"admin", "rotate-signing-key"}, &out), 0)
      << out;
  std::smatch printed;
  ASSERT_TRUE(std::regex_search(out, printed,
                                std::regex("next_verifier_key: \"([^\"]+)\"")))
      << out;
  const std::string new_key = printed[1].str();
  EXPECT_NE(new_key, old_key);
  EXPECT_THAT(out, HasSubstr(absl::StrCat("old verifier key: ", old_key)));
  EXPECT_EQ(Checkpoint().verifier_key(), new_key);

  // The log records the switch, under the admin's name.
  int switches = 0;
  for (const auto& indexed : Entries(kHolder)) {
    if (indexed.entry().kind() != haven::v1::SIGNING_KEY_ROTATED) continue;
    ++switches;
    EXPECT_EQ(indexed.entry().key_switch().old_verifier_key(), old_key);
    EXPECT_EQ(indexed.entry().key_switch().new_verifier_key(), new_key);
    EXPECT_EQ(indexed.entry().key_switch().tree_size(), indexed.index() + 1);
    EXPECT_FALSE(indexed.entry().principal().empty());
  }
  EXPECT_EQ(switches, 1);

  // Until the manifest lists the new key, the requester's node refuses
  // what it signs: nothing unverified reaches legal-aid's caseworker.
  haven::v1::RequestDisclosureResponse unverified;
  EXPECT_FALSE(Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                       {haven::v1::CONTACT}, &unverified)
                   .ok());
  EXPECT_EQ(unverified.fields_size(), 0);

  // The task force lists the next key; disclosures signed by it are
  // accepted and checked by the requester's node.
  PublishNextKey(new_key);
  ExpectDisclosure(handle);
  ExpectDisclosure(handle);
  const haven::v1::GetCheckpointResponse after = Checkpoint();
  EXPECT_GT(after.checkpoint().tree_size(), before.checkpoint().tree_size());
  EXPECT_TRUE(SignedBy(after.checkpoint().note(), new_key));
  EXPECT_FALSE(SignedBy(after.checkpoint().note(), old_key));

  // The auditor's run: consistent with the old key's checkpoint pinned
  // before, up to the new key's latest.
  ASSERT_EQ(Ctl(kHolder, "auditor",
                {"audit", "verify", "--state", state, "--key", old_key, "--key",
                 new_key},
                &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("consistent with trusted size"));
  // A fresh auditor trusting either key alone follows the switch: from the
  // old key by its signed handover, from the new key by the checkpoint.
  for (const std::string& key : {old_key, new_key}) {
    EXPECT_EQ(Ctl(kHolder, "auditor",
                  {"audit", "verify", "--state",
                   dir_.Join(absl::StrCat("fresh-", key.size(), "-",
                                          key == old_key ? "old" : "new")),
                   "--key", key},
                  &out),
              0)
        << out;
  }
  // A key that is not the holder's fails (exit 4).
  EXPECT_EQ(Ctl(kHolder, "auditor",
                {"audit", "verify", "--state", dir_.Join("wrong.state"),
                 "--key", federation_->verifier_key(kLegalAid)},
                &out),
            4)
      << out;

  // A restart keeps the new key; the log still verifies end to end.
  ASSERT_EQ(federation_->node(kHolder).Stop(), 0);
  std::string error;
  ASSERT_TRUE(federation_->node(kHolder).Start(&error)) << error;
  Connect(kHolder);
  EXPECT_EQ(Checkpoint().verifier_key(), new_key);
  ExpectDisclosure(handle);
  EXPECT_EQ(Ctl(kHolder, "auditor",
                {"audit", "verify", "--state", state, "--key", old_key, "--key",
                 new_key},
                &out),
            0)
      << out;
}

}  // namespace
}  // namespace haven::testing
