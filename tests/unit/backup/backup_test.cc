#include "server/backup/backup.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/audit/rollback_guard.h"
#include "server/storage/rocksdb_storage.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace haven::server::backup {
namespace {

namespace fs = std::filesystem;
using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::haven::testing::TempDir;
using storage::Family;
using storage::RocksDbStorage;
using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<RocksDbStorage> OpenStorage(const std::string& path) {
  storage::Database::Options options;
  options.path = path;
  auto opened = RocksDbStorage::Open(std::move(options));
  EXPECT_THAT(opened, IsOk());
  return opened.ok() ? *std::move(opened) : nullptr;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

constexpr int kKeys = 2000;

class BackupTest : public ::testing::Test {
 protected:
  // A data dir with kKeys synced values in the vault family and a side
  // file, and a backup of it made the way BackupMaker makes one.
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    data_ = dir_.Join("data");
    fs::create_directory(data_);
    auto storage = OpenStorage(data_);
    ASSERT_NE(storage, nullptr);
    for (int i = 0; i < kKeys; ++i) {
      storage::WriteBatch batch;
      batch.Put(Family::kVault, absl::StrCat("key", i),
                absl::StrCat("sealed value ", i));
      ASSERT_THAT(storage->Write(batch, /*sync=*/i % 100 == 0), IsOk());
    }
    ASSERT_THAT(storage->WriteSideFile("checkpoint", "side file bytes"),
                IsOk());
    backup_ = dir_.Join("backup");
    auto copied = storage->CopyTo(backup_);
    ASSERT_THAT(copied, IsOk());
    EXPECT_GT(*copied, 0u);
    // The storage goes on after the copy: the copy does not follow.
    storage::WriteBatch later;
    later.Put(Family::kVault, "after", "not in the backup");
    ASSERT_THAT(storage->Write(later, true), IsOk());
    EXPECT_THAT(storage->CopyTo(backup_), Not(IsOk()));
    WriteText(absl::StrCat(backup_, "/", kBackupInfoFile),
              "format: \"haven-backup/1\" agency_id: \"safe-harbor\" "
              "taken_unix: 1790000000 tree_size: 7");
  }

  TempDir dir_;
  std::string data_;
  std::string backup_;
};

TEST_F(BackupTest, RestoredDataDirHoldsEveryWriteBeforeTheCopyAndNoLater) {
  const std::string restored = dir_.Join("restored");
  ASSERT_THAT(RestoreBackup(backup_, restored, "safe-harbor"), IsOk());
  EXPECT_THAT(CheckNoIncompleteRestore(restored), IsOk());
  EXPECT_EQ(fs::status(restored).permissions() & fs::perms::all,
            fs::perms::owner_all);

  auto storage = OpenStorage(restored);
  ASSERT_NE(storage, nullptr);
  for (int i = 0; i < kKeys; ++i) {
    auto value = storage->Get(Family::kVault, absl::StrCat("key", i));
    ASSERT_THAT(value, IsOk());
    ASSERT_TRUE(value->has_value()) << i;
    EXPECT_EQ(**value, absl::StrCat("sealed value ", i));
  }
  auto after = storage->Get(Family::kVault, "after");
  ASSERT_THAT(after, IsOk());
  EXPECT_FALSE(after->has_value());
  auto side = storage->ReadSideFile("checkpoint");
  ASSERT_THAT(side, IsOk());
  EXPECT_EQ(side->value_or(""), "side file bytes");
  // The next start knows it is a first start after a restore.
  auto marker = storage->ReadSideFile(audit::kRestoredSideFile);
  ASSERT_THAT(marker, IsOk());
  ASSERT_TRUE(marker->has_value());
  haven::v1::BackupInfo info;
  ASSERT_TRUE(info.ParseFromString(**marker));
  EXPECT_EQ(info.agency_id(), "safe-harbor");
  EXPECT_EQ(info.tree_size(), 7u);
  EXPECT_FALSE(info.restore_logged());
}

TEST_F(BackupTest, RestoreRefusesAnotherAgencysBackupAndAFullDataDir) {
  EXPECT_THAT(RestoreBackup(backup_, dir_.Join("r1"), "metro-pd"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("the backup is of agency 'safe-harbor'")));
  EXPECT_THAT(RestoreBackup(backup_, data_, "safe-harbor"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is not empty")));
  // The live data dir was not touched.
  EXPECT_FALSE(fs::exists(absl::StrCat(
      data_, "/", storage::SideFileName(audit::kRestoredSideFile))));
  EXPECT_THAT(RestoreBackup(data_, dir_.Join("r2"), "safe-harbor"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("not a complete Haven backup")));
  WriteText(absl::StrCat(backup_, "/", kBackupInfoFile), "format: \"other\"");
  EXPECT_THAT(RestoreBackup(backup_, dir_.Join("r3"), "safe-harbor"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is not a haven-backup/1 backup")));
}

TEST_F(BackupTest, ARestoreCutShortKeepsTheNodeFromStarting) {
  const std::string restored = dir_.Join("restored");
  fs::create_directory(restored);
  WriteText(absl::StrCat(restored, "/", kRestoreIncompleteFile), "");
  EXPECT_THAT(CheckNoIncompleteRestore(restored),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("did not finish")));
}

}  // namespace
}  // namespace haven::server::backup
