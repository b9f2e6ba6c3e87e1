#include "server/federation/manifest_reload.h"

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/stderr_capture.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_log.h"
#include "tests/testing/test_manifest.h"

namespace haven::server::federation {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::haven::testing::StderrCapture;
using ::haven::testing::TestManifest;
using ::testing::HasSubstr;

class ManifestReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = haven::testing::TestLog::Create("safe-harbor");
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    Write(TestManifest({{"safe-harbor"}}, /*serial=*/1)->proto().DebugString());
    auto registry = FederationRegistry::Create(path_);
    ASSERT_THAT(registry, IsOk());
    registry_ = *std::move(registry);
    registry_->SetInstallListener(
        [this](const std::shared_ptr<const Manifest>&,
               const std::shared_ptr<const Manifest>& after) {
          installed_.push_back(after->proto().serial());
        });
  }
  void Write(const std::string& text) {
    std::ofstream out(path_, std::ios::trunc);
    out << text;
  }

  haven::testing::TempDir dir_;
  const std::string path_ = dir_.Join("federation.textproto");
  std::unique_ptr<haven::testing::TestLog> log_;
  std::unique_ptr<FederationRegistry> registry_;
  std::vector<uint64_t> installed_;
};

TEST_F(ManifestReloadTest, NewManifestIsLoggedThenInstalled) {
  Write(TestManifest({{"safe-harbor"}, {"legal-aid"}}, /*serial=*/2)
            ->proto()
            .DebugString());
  const uint64_t size_before = log_->log().Size();
  StderrCapture capture;
  auto reloaded = ReloadManifest(*registry_, log_->recorder(), "admin");
  const std::string logged = capture.Release();
  ASSERT_THAT(reloaded, IsOk());
  EXPECT_EQ((*reloaded)->proto().serial(), 2u);
  EXPECT_EQ(registry_->current()->proto().serial(), 2u);
  EXPECT_EQ(installed_, std::vector<uint64_t>{2});
  ASSERT_EQ(log_->log().Size(), size_before + 1);
  auto entries = log_->log().GetEntries(size_before, 1);
  ASSERT_THAT(entries, IsOk());
  EXPECT_EQ((*entries)[0].entry().kind(), haven::v1::MEMBER_CHANGED);
  EXPECT_EQ((*entries)[0].entry().detail(), "manifest serial 2, 2 members");
  EXPECT_THAT(logged,
              HasSubstr("manifest_reloaded by=admin serial=2 members=2"));
}

TEST_F(ManifestReloadTest, BrokenManifestChangesNothingAndLogsNothing) {
  Write("members { agency_id: ");
  const uint64_t size_before = log_->log().Size();
  EXPECT_THAT(ReloadManifest(*registry_, log_->recorder(), "admin"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(log_->log().Size(), size_before);
  EXPECT_EQ(registry_->current()->proto().serial(), 1u);
  EXPECT_TRUE(installed_.empty());
}

TEST_F(ManifestReloadTest, ManifestThatCannotBeLoggedIsNotInstalled) {
  Write(TestManifest({{"safe-harbor"}, {"legal-aid"}}, /*serial=*/2)
            ->proto()
            .DebugString());
  log_->storage().FailWriteAt(log_->storage().writes());
  EXPECT_THAT(ReloadManifest(*registry_, log_->recorder(), "admin"),
              ::testing::Not(IsOk()));
  EXPECT_EQ(registry_->current()->proto().serial(), 1u);
  EXPECT_TRUE(installed_.empty());
}

// An older copy of the manifest put back (or the same one again) would
// undo a suspension silently; another federation's is not this node's.
TEST_F(ManifestReloadTest,
       ManifestNotNewerOrOfAnotherFederationIsRefusedAndLogged) {
  Write(TestManifest({{"safe-harbor"}, {"legal-aid"}}, /*serial=*/3)
            ->proto()
            .DebugString());
  ASSERT_THAT(ReloadManifest(*registry_, log_->recorder(), "admin"), IsOk());

  for (uint64_t serial : {3u, 2u}) {
    Write(TestManifest({{"safe-harbor"}}, serial)->proto().DebugString());
    const uint64_t size_before = log_->log().Size();
    EXPECT_THAT(ReloadManifest(*registry_, log_->recorder(), "admin"),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("is not above the serial in force (3)")));
    EXPECT_EQ(registry_->current()->proto().serial(), 3u);
    EXPECT_EQ(registry_->current()->proto().members_size(), 2);
    ASSERT_EQ(log_->log().Size(), size_before + 1);
    auto entries = log_->log().GetEntries(size_before, 1);
    ASSERT_THAT(entries, IsOk());
    EXPECT_EQ((*entries)[0].entry().kind(), haven::v1::MANIFEST_REFUSED);
    EXPECT_EQ((*entries)[0].entry().principal(), "admin");
  }

  auto other = TestManifest({{"safe-harbor"}}, /*serial=*/9);
  haven::v1::FederationManifest proto = other->proto();
  proto.set_federation("another-task-force");
  Write(proto.DebugString());
  EXPECT_THAT(ReloadManifest(*registry_, log_->recorder(), "admin"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("of federation 'another-task-force'")));
  EXPECT_EQ(registry_->current()->proto().serial(), 3u);
  EXPECT_EQ(installed_, std::vector<uint64_t>{3});
}

}  // namespace
}  // namespace haven::server::federation
