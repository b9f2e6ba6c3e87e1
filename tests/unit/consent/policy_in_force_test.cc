#include "server/consent/policy_in_force.h"

#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/stderr_capture.h"
#include "tests/testing/test_log.h"

namespace haven::server::consent {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::haven::testing::StderrCapture;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Example(const std::string& agency) {
  return std::string(HAVEN_SOURCE_DIR) + "/policy/examples/" + agency +
         ".textproto";
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class PolicyInForceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = haven::testing::TestLog::Create("safe-harbor");
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    store_ = std::make_unique<PolicyStore>(&log_->storage(), &log_->sealer());
    Reopen();
  }
  // A fresh holder and module over the same storage: a restarted node.
  void Reopen() {
    holder_ = std::make_unique<policy::PolicyHolder>();
    policy_ = std::make_unique<PolicyInForce>(PolicyInForce::Deps{
        "safe-harbor", store_.get(), holder_.get(), &log_->recorder(),
        &log_->clock()});
  }
  PolicyInForce::BootstrapOptions FromFile(const std::string& path) {
    return {path, "node.textproto: policy_file", "/data"};
  }

  std::unique_ptr<haven::testing::TestLog> log_;
  std::unique_ptr<PolicyStore> store_;
  std::unique_ptr<policy::PolicyHolder> holder_;
  std::unique_ptr<PolicyInForce> policy_;
};

TEST_F(PolicyInForceTest, WithoutPolicyFileNothingIsInForce) {
  ASSERT_THAT(policy_->Bootstrap(FromFile("")), IsOk());
  EXPECT_EQ(holder_->Get(), nullptr);
}

TEST_F(PolicyInForceTest, PolicyFileAppliesUntilTheFirstRunTimeLoad) {
  ASSERT_THAT(policy_->Bootstrap(FromFile(Example("safe-harbor"))), IsOk());
  auto [current, origin] = holder_->GetWithOrigin();
  ASSERT_NE(current, nullptr);
  EXPECT_THAT(origin.source, StartsWith("policy_file "));
}

TEST_F(PolicyInForceTest, PolicyFileOfAnotherAgencyIsRefused) {
  EXPECT_THAT(policy_->Bootstrap(FromFile(Example("legal-aid"))),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("node.textproto: policy_file")));
  EXPECT_EQ(holder_->Get(), nullptr);
}

TEST_F(PolicyInForceTest, RunTimeLoadIsLoggedStoredAndOutlivesRestart) {
  const uint64_t size_before = log_->log().Size();
  auto loaded = policy_->Load("admin", Read(Example("safe-harbor")), "");
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(loaded->audit_index, size_before);
  ASSERT_NE(holder_->Get(), nullptr);
  EXPECT_EQ(holder_->Get()->version(), loaded->version);

  Reopen();
  StderrCapture capture;
  ASSERT_THAT(policy_->Bootstrap(FromFile(Example("safe-harbor"))), IsOk());
  const std::string logged = capture.Release();
  EXPECT_THAT(logged, HasSubstr("policy_in_force source=\"run-time load\""));
  EXPECT_THAT(logged, HasSubstr("policy_file_not_applied"));
  auto [current, origin] = holder_->GetWithOrigin();
  ASSERT_NE(current, nullptr);
  EXPECT_EQ(current->version(), loaded->version);
  EXPECT_EQ(origin.source, "loaded at run time by admin");
}

TEST_F(PolicyInForceTest, BadLoadChangesNothingAndLogsNothing) {
  const uint64_t size_before = log_->log().Size();
  EXPECT_THAT(policy_->Load("admin", Read(Example("safe-harbor")), "yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(policy_->Load("admin", Read(Example("legal-aid")), "textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("legal-aid")));
  EXPECT_THAT(policy_->Load("admin", "not a policy {", ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(log_->log().Size(), size_before);
  EXPECT_EQ(holder_->Get(), nullptr);
}

}  // namespace
}  // namespace haven::server::consent
