// Outgoing peer calls are pinned to the manifest, against real havend
// processes: safe-harbor holds a survivor's phone number, legal-aid asks
// for it. The task-force CA then issues safe-harbor's name a second
// certificate, one the manifest does not list (a CA misissuance, or a
// stolen CA key), and the node at safe-harbor's endpoint presents it.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
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

class PeerPinningTest : public ::testing::Test, public FederationCalls {
 protected:
  PeerPinningTest() : FederationCalls(kHolder) {}

  TempDir dir_;
  std::unique_ptr<TestFederation> federation_;
};

int CountKind(const std::vector<haven::v1::IndexedEntry>& entries,
              haven::v1::EntryKind kind) {
  int count = 0;
  for (const auto& e : entries) count += e.entry().kind() == kind;
  return count;
}

// What a survivor would care about: a node holding a certificate the CA
// issued under the holder's name, but not the one the task force listed,
// receives no request (not even the handle and purpose): the requester's
// node refuses it in the TLS handshake, and logs why.
TEST_F(PeerPinningTest, HolderWithAnUnlistedCertificateGetsNothing) {
  federation_ = std::make_unique<TestFederation>(dir_.path());
  set_federation(federation_.get());
  std::string error;
  ASSERT_TRUE(federation_->Create({ExampleMember(kHolder, "VICTIM_SERVICES"),
                                   ExampleMember(kLegalAid, "LEGAL_SERVICES")},
                                  &error))
      << error;
  ASSERT_TRUE(federation_->Start(&error)) << error;
  Connect(kHolder);
  Connect(kLegalAid);

  const std::string survivor =
      CreateSubject({NewField("phone", haven::v1::CONTACT, "555-0100")});
  haven::v1::RecordConsentResponse consent;
  grpc::Status status = RecordConsent(
      NewConsent(survivor, kLegalAid, haven::v1::LEGAL_REPRESENTATION,
                 {haven::v1::CONTACT}, 86400),
      &consent);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string handle = WaitForHandle(kLegalAid);
  ASSERT_FALSE(handle.empty());
  haven::v1::RequestDisclosureResponse answer;
  status = Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                   {haven::v1::CONTACT}, &answer);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GT(answer.fields_size(), 0);

  // Same CA, same name, same endpoint; not the listed certificate.
  Disconnect();
  ASSERT_EQ(federation_->node(kHolder).Stop(), 0);
  std::string out;
  ASSERT_EQ(RunCommand({SourceDir() + "/deploy/make-certs.sh",
                        federation_->pki_dir(), kHolder},
                       &out),
            0)
      << out;
  ASSERT_TRUE(federation_->node(kHolder).Start(&error)) << error;
  Connect(kHolder);
  Connect(kLegalAid);
  const size_t holder_entries = Entries(kHolder).size();

  haven::v1::RequestDisclosureResponse refused;
  status = Request(kLegalAid, handle, haven::v1::LEGAL_REPRESENTATION,
                   {haven::v1::CONTACT}, &refused);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(refused.fields_size(), 0);
  // Nothing reached the holder: no decision, no refusal in its log.
  const std::vector<haven::v1::IndexedEntry> holder_log = Entries(kHolder);
  EXPECT_EQ(holder_log.size(), holder_entries);
  EXPECT_EQ(CountKind(holder_log, haven::v1::DISCLOSURE), 1);
  // The requester's log says why.
  const std::vector<haven::v1::IndexedEntry> own = Entries(kLegalAid);
  ASSERT_FALSE(own.empty());
  const auto& last = own.back().entry();
  EXPECT_EQ(last.kind(), haven::v1::REQUEST_REFUSED);
  EXPECT_EQ(last.agency_id(), kHolder);
  EXPECT_THAT(last.detail(), HasSubstr("cert_sha256"));
}

}  // namespace
}  // namespace haven::testing
