// End-to-end tests of the auditor's offline and cross-node checks against
// real havend processes: a proof bundle fetched with `havenctl audit bundle`
// verifies with no node and fails on any flipped bit; `audit consistency`
// and the node both refuse a proof from the empty tree; and `audit
// reconcile` pairs both sides of real exchanges.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/verify/proof_bundle.h"
#include "client/verify/signed_note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/v1/audit.grpc.pb.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_federation.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr int kExitUsage = 2;
constexpr int kExitVerifyFailed = 4;

class OfflineBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    node_ = StartLoneNode(dir_.path(), pki_.path(), &error);
    ASSERT_NE(node_, nullptr) << error;
    std::string out;
    ASSERT_EQ(Ctl("caseworker", {"records", "create-subject"}, &out), 0) << out;
    const std::string subject = Trimmed(out);
    for (int i = 0; i < 4; ++i) {
      ASSERT_EQ(Ctl("caseworker",
                    {"records", "put", "--subject", subject, "--field",
                     "phone:CONTACT=555-0100"},
                    &out),
                0)
          << out;
    }
    ASSERT_EQ(Ctl("auditor", {"audit", "key"}, &out), 0) << out;
    vkey_ = Trimmed(out);
  }

  int Ctl(const std::string& role, const std::vector<std::string>& args,
          std::string* out) const {
    return node_->Havenctl(role, args, out);
  }

  // `havenctl audit bundle --index N > path`; returns the exit code.
  int BundleTo(uint64_t index, const std::string& path) const {
    Subprocess ctl({HavenctlPath(), "--node", node_->local_address(), "--ca",
                    node_->ca_file(), "--server-name", node_->agency_id(),
                    "--token-file", node_->token_file("auditor"), "audit",
                    "bundle", "--index", absl::StrCat(index)},
                   path, dir_.Join("bundle.err"));
    auto code = ctl.Wait(std::chrono::seconds(60));
    return code.value_or(-1);
  }

  TempDir dir_;
  TempDir pki_;
  std::unique_ptr<TestNode> node_;
  std::string vkey_;
};

TEST_F(OfflineBundleTest, BundleFromNodeVerifiesOfflineAndEveryBitFlipFails) {
  const std::string path = dir_.Join("entry.json");
  ASSERT_EQ(BundleTo(2, path), 0) << ReadFileOrEmpty(dir_.Join("bundle.err"));
  const std::string text = ReadFileOrEmpty(path);
  ASSERT_THAT(text,
              ::testing::StartsWith("{\"format\":\"haven-proof-bundle/v1\","
                                    "\"leaf_index\":2,"));

  // No node: the check runs without --node, --ca or a token, and after
  // the node has stopped.
  ASSERT_EQ(node_->Stop(), 0);
  std::string out;
  ASSERT_EQ(RunCommand(
                {HavenctlPath(), "audit", "check-bundle", path, "--key", vkey_},
                &out),
            0)
      << out;
  EXPECT_THAT(out, MatchesRegex("verified: entry 2 \\([A-Z_]+, "
                                "[0-9T:-]+Z(, agency [a-z0-9-]+)?\\) is in "
                                "log [^ ]+ at size [0-9]+, checkpoint "
                                "signed by [^ ]+\n(not checked: [^\n]+\n)?"));
  ASSERT_EQ(RunCommand({HavenctlPath(), "--json", "audit", "check-bundle", path,
                        "--key", vkey_},
                       &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("\"verified\":true,\"leaf_index\":2,\"kind\":\""));

  // Every single bit, through the library the command uses.
  auto key = client::ParseVerifierKey(vkey_);
  ASSERT_TRUE(key.ok()) << key.status();
  ASSERT_TRUE(client::VerifyProofBundle(text, *key).ok());
  int accepted = 0;
  for (size_t byte = 0; byte < text.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = text;
      flipped[byte] = static_cast<char>(flipped[byte] ^ (1 << bit));
      if (client::VerifyProofBundle(flipped, *key).ok()) {
        ++accepted;
        ADD_FAILURE() << "flip of byte " << byte << " bit " << bit
                      << " still verifies";
      }
    }
  }
  EXPECT_EQ(accepted, 0);

  // And one flip through the command: exit 4 with the reason.
  std::string tampered = text;
  tampered[text.find("\"leaf\":\"") + 12] ^= 0x01;
  const std::string tampered_path = dir_.Join("tampered.json");
  {
    std::FILE* f = std::fopen(tampered_path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(tampered.data(), 1, tampered.size(), f);
    std::fclose(f);
  }
  EXPECT_EQ(RunCommand({HavenctlPath(), "audit", "check-bundle", tampered_path,
                        "--key", vkey_},
                       &out),
            kExitVerifyFailed)
      << out;
  EXPECT_THAT(out, HasSubstr("verification failed"));
}

TEST_F(OfflineBundleTest, CheckBundleRefusesWrongKeyAndBadUsage) {
  const std::string path = dir_.Join("entry.json");
  ASSERT_EQ(BundleTo(0, path), 0) << ReadFileOrEmpty(dir_.Join("bundle.err"));
  std::string out;
  // A well-formed key of another name cannot have signed it.
  const std::string other = "other.example/log" + vkey_.substr(vkey_.find('+'));
  int code = RunCommand(
      {HavenctlPath(), "audit", "check-bundle", path, "--key", other}, &out);
  // Its key id no longer matches its name: a usage error, or, if it
  // parses, a signature that is not found.
  EXPECT_TRUE(code == kExitUsage || code == kExitVerifyFailed) << out;
  EXPECT_EQ(RunCommand({HavenctlPath(), "audit", "check-bundle", path}, &out),
            kExitUsage)
      << out;
  EXPECT_EQ(
      RunCommand({HavenctlPath(), "audit", "check-bundle", "--key", vkey_},
                 &out),
      kExitUsage)
      << out;
  // Beyond the tree: the node refuses (exit 1).
  EXPECT_EQ(Ctl("auditor", {"audit", "bundle", "--index", "100000"}, &out), 1)
      << out;
}

TEST_F(OfflineBundleTest, ConsistencyFromTheEmptyTreeIsRefused) {
  std::string out;
  EXPECT_EQ(Ctl("auditor", {"audit", "consistency", "--from", "0"}, &out),
            kExitUsage)
      << out;
  EXPECT_THAT(out, HasSubstr("empty tree"));
  EXPECT_EQ(Ctl("auditor", {"audit", "consistency", "--from", "1"}, &out), 0)
      << out;

  auto stub = haven::v1::AuditService::NewStub(node_->LocalChannel());
  for (uint64_t old_size : {uint64_t{0}, uint64_t{1}}) {
    auto context = node_->ClientContext("auditor", std::chrono::seconds(30));
    haven::v1::GetConsistencyProofRequest request;
    request.set_old_size(old_size);
    haven::v1::GetConsistencyProofResponse response;
    grpc::Status status =
        stub->GetConsistencyProof(context.get(), request, &response);
    if (old_size == 0) {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_THAT(status.error_message(), HasSubstr("empty tree"));
    } else {
      EXPECT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(response.proof().old_size(), 1u);
    }
  }
}

// Two agencies, real exchanges through havenctl, then `audit reconcile`.
TEST(ReconcileCliTest, RealExchangesReconcileWithNoFindings) {
  TempDir dir;
  TestFederation federation(dir.path());
  std::string error;
  ASSERT_TRUE(
      federation.Create({ExampleMember("safe-harbor", "VICTIM_SERVICES"),
                         ExampleMember("legal-aid", "LEGAL_SERVICES")},
                        &error))
      << error;
  ASSERT_TRUE(federation.Start(&error)) << error;
  TestNode& holder = federation.node("safe-harbor");
  TestNode& requester = federation.node("legal-aid");

  std::string out;
  ASSERT_EQ(holder.Havenctl("caseworker", {"records", "create-subject"}, &out),
            0)
      << out;
  const std::string subject = Trimmed(out);
  ASSERT_EQ(holder.Havenctl("caseworker",
                            {"records", "put", "--subject", subject, "--field",
                             "phone:CONTACT=555-0100"},
                            &out),
            0)
      << out;
  ASSERT_EQ(holder.Havenctl(
                "advocate",
                {"consent", "record", "--subject", subject, "--grantee-agency",
                 "legal-aid", "--purpose", "legal_representation", "--category",
                 "CONTACT", "--until", "+90d"},
                &out),
            0)
      << out;
  std::string handle;
  const std::regex handle_pattern("\"handle\":\"([^\"]*)\"");
  for (int attempt = 0; attempt < 100 && handle.empty(); ++attempt) {
    ASSERT_EQ(requester.Havenctl("caseworker",
                                 {"exchange", "handles", "--json"}, &out),
              0)
        << out;
    std::smatch match;
    if (std::regex_search(out, match, handle_pattern)) handle = match[1].str();
    if (handle.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ASSERT_FALSE(handle.empty()) << out;
  // A disclosure (CONTACT given, CASE_NOTES withheld), a decision that
  // gives nothing, and a refusal before any decision (unknown handle).
  const std::vector<std::vector<std::string>> asks = {
      {"--handle", handle, "--purpose", "LEGAL_REPRESENTATION", "--category",
       "CONTACT", "--category", "CASE_NOTES"},
      {"--handle", handle, "--purpose", "LEGAL_REPRESENTATION", "--category",
       "MEDICAL"},
      {"--handle", "0123456789abcdef0123456789abcdef", "--purpose",
       "LEGAL_REPRESENTATION", "--category", "CONTACT"},
  };
  for (const auto& ask : asks) {
    std::vector<std::string> args = {"exchange", "request", "--holder",
                                     "safe-harbor"};
    args.insert(args.end(), ask.begin(), ask.end());
    requester.Havenctl("caseworker", args, &out);
  }

  const std::vector<std::string> reconcile = {"audit",
                                              "reconcile",
                                              "--peer-node",
                                              requester.local_address(),
                                              "--peer-server-name",
                                              "legal-aid",
                                              "--peer-token-file",
                                              requester.token_file("auditor")};
  ASSERT_EQ(holder.Havenctl("auditor", reconcile, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("safe-harbor <-> legal-aid: 3 exchange(s) on "
                             "record at both nodes, 0 unpaired"));
  std::vector<std::string> json = reconcile;
  json.push_back("--json");
  ASSERT_EQ(holder.Havenctl("auditor", json, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("\"paired\":3"));
  EXPECT_THAT(out, HasSubstr("\"findings\":[]"));

  std::vector<std::string> bad = reconcile;
  bad.insert(bad.end(), {"--tolerance-seconds", "-1"});
  EXPECT_EQ(holder.Havenctl("auditor", bad, &out), kExitUsage) << out;
}

}  // namespace
}  // namespace haven::testing
