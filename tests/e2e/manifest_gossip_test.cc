// A membership change reaches every node by gossip, against four real havend
// processes: the task force's operator signs serial 2 suspending legal-aid
// and hands it to metro-pd alone (its admin reloads it). The other nodes
// learn it in their next witness round from any peer holding it, refuse
// legal-aid from then on, log the change with its serial, and keep it
// across a restart even when their manifest file says serial 1.
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/v1/admin.grpc.pb.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "tests/testing/federation_calls.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_federation.h"

namespace haven::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kHolder[] = "safe-harbor";
constexpr char kLegalAid[] = "legal-aid";
constexpr char kMetroPd[] = "metro-pd";
constexpr char kShelter[] = "shelter-north";
// Witness rounds every 2 s, so that "within one round" is quick to show.
constexpr int kRoundSeconds = 2;

class ManifestGossipTest : public ::testing::Test, public FederationCalls {
 protected:
  ManifestGossipTest() : FederationCalls(kHolder) {}

  void SetUp() override {
    federation_ = std::make_unique<TestFederation>(dir_.path());
    set_federation(federation_.get());
    federation_->set_extra_config(
        absl::StrCat("witness_interval_seconds: ", kRoundSeconds, "\n"));
    std::string error;
    ASSERT_TRUE(
        federation_->Create({ExampleMember(kHolder, "VICTIM_SERVICES"),
                             ExampleMember(kLegalAid, "LEGAL_SERVICES"),
                             ExampleMember(kMetroPd, "LAW_ENFORCEMENT"),
                             TestFederation::Member{kShelter, "SHELTER", ""}},
                            &error))
        << error;
    ASSERT_TRUE(federation_->Start(&error)) << error;
    for (const char* agency : kAll) Connect(agency);
  }

  haven::v1::GetStatusResponse Status(const std::string& agency) {
    auto admin = haven::v1::AdminService::NewStub(channel(agency));
    haven::v1::GetStatusResponse status;
    grpc::Status called = admin->GetStatus(
        Call(agency, "admin").get(), haven::v1::GetStatusRequest(), &status);
    EXPECT_TRUE(called.ok()) << called.error_message();
    return status;
  }

  // A peer call from `as`'s certificate to `to`'s peer API.
  grpc::Status EchoAs(const std::string& as, const std::string& to) {
    auto stub =
        haven::v1::PeerService::NewStub(PeerChannel(*federation_, as, to));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    haven::v1::EchoRequest request;
    request.set_payload("ping");
    haven::v1::EchoResponse response;
    return stub->Echo(&context, request, &response);
  }

  // The manifest text with `agency`'s status set and the serial set.
  std::string WithStatus(const std::string& agency, const std::string& status,
                         uint64_t serial) {
    std::string text = federation_->manifest_text();
    const size_t at = text.find(absl::StrCat("agency_id: \"", agency, "\""));
    const size_t end = text.find('}', at);
    std::string block = text.substr(at, end - at);
    block = std::regex_replace(block, std::regex("status: \\S+"),
                               "status: " + status);
    text = text.substr(0, at) + block + text.substr(end);
    return std::regex_replace(text, std::regex("serial: \\d+"),
                              absl::StrCat("serial: ", serial));
  }

  static constexpr const char* kAll[] = {kHolder, kLegalAid, kMetroPd,
                                         kShelter};
  TempDir dir_;
  std::unique_ptr<TestFederation> federation_;
};

TEST_F(ManifestGossipTest,
       SuspensionHandedToOneNodeReachesEveryNodeWithinOneRoundAndStays) {
  const std::string serial1 = federation_->manifest_text();
  for (const char* agency : {kHolder, kMetroPd, kShelter}) {
    grpc::Status echo = EchoAs(kLegalAid, agency);
    ASSERT_TRUE(echo.ok()) << agency << ": " << echo.error_message();
    EXPECT_EQ(Status(agency).manifest_serial(), 1u);
  }

  // The operator signs serial 2 and hands it to metro-pd alone.
  federation_->WriteManifest(WithStatus(kLegalAid, "MEMBER_SUSPENDED", 2));
  auto admin = haven::v1::AdminService::NewStub(channel(kMetroPd));
  haven::v1::ReloadManifestResponse reloaded;
  grpc::Status status =
      admin->ReloadManifest(Call(kMetroPd, "admin").get(),
                            haven::v1::ReloadManifestRequest(), &reloaded);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(reloaded.serial(), 2u);
  const auto published = std::chrono::steady_clock::now();

  // Every other node holds it within one round (plus a second for the
  // fetch and the commit): polled every 50 ms, bounded at three rounds.
  for (const char* agency : {kHolder, kShelter}) {
    const auto deadline = published + std::chrono::seconds(3 * kRoundSeconds);
    while (Status(agency).manifest_serial() < 2 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - published);
    RecordProperty(absl::StrCat(agency, "_ms"), static_cast<int>(took.count()));
    haven::v1::GetStatusResponse now = Status(agency);
    ASSERT_EQ(now.manifest_serial(), 2u)
        << agency << " after " << took.count() << " ms";
    EXPECT_EQ(now.manifest_sha256(), reloaded.sha256()) << agency;
    EXPECT_LE(took, std::chrono::seconds(kRoundSeconds + 1))
        << agency << " took " << took.count() << " ms";
  }

  for (const char* agency : {kHolder, kMetroPd, kShelter}) {
    grpc::Status echo = EchoAs(kLegalAid, agency);
    EXPECT_EQ(echo.error_code(), grpc::StatusCode::PERMISSION_DENIED) << agency;
    EXPECT_THAT(echo.error_message(), HasSubstr("suspended")) << agency;
    // The change, with its serial and the manifest's digest, in its log.
    int suspended = 0;
    int applied = 0;
    for (const auto& e : Entries(agency)) {
      suspended += e.entry().kind() == haven::v1::MEMBERSHIP_SUSPENDED &&
                   e.entry().agency_id() == kLegalAid &&
                   e.entry().detail() == "serial 2";
      applied += e.entry().kind() == haven::v1::MANIFEST_APPLIED &&
                 absl::StrContains(e.entry().detail(),
                                   absl::StrCat("manifest serial 2, sha256 ",
                                                reloaded.sha256()));
    }
    EXPECT_EQ(suspended, 1) << agency;
    EXPECT_EQ(applied, 1) << agency;
  }
  // Members still active talk as before.
  EXPECT_TRUE(EchoAs(kShelter, kHolder).ok());

  // Restarted with a manifest file that says serial 1 (signed, and older):
  // the shelter keeps the serial 2 it applied by gossip.
  federation_->WriteManifest(serial1);
  Disconnect();
  ASSERT_EQ(federation_->node(kShelter).Stop(), 0);
  std::string error;
  ASSERT_TRUE(federation_->node(kShelter).Start(&error)) << error;
  Connect(kShelter);
  EXPECT_EQ(Status(kShelter).manifest_serial(), 2u);
  EXPECT_EQ(EchoAs(kLegalAid, kShelter).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace haven::testing
