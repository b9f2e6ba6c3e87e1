// What a stolen disk shows: scans every byte of every file under the data dir
// (SST, WAL, MANIFEST, LOG, OPTIONS) for content and for erased key bytes.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/v1/common.pb.h"
#include "server/crypto/key_derivation.h"
#include "server/storage/database.h"
#include "server/vault/envelope.h"
#include "server/vault/record_vault.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/vault/vault_test_util.h"

namespace haven::server::vault {
namespace {

using ::haven::server::vault::testing::CountFiles;
using ::haven::server::vault::testing::DirectVault;
using ::haven::server::vault::testing::FilesContaining;
using ::haven::server::vault::testing::FlushAll;
using ::haven::server::vault::testing::OpenStorage;
using ::haven::server::vault::testing::ScopedTempDir;
using ::haven::server::vault::testing::TestMasterKey;
using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::IsEmpty;
using ::testing::Not;

// The canary and the encodings of it that a careless layer might store.
std::vector<std::string> Encodings(const std::string& canary) {
  std::string hex = absl::BytesToHexString(canary);
  return {canary, hex, absl::AsciiStrToUpper(hex), absl::Base64Escape(canary),
          absl::WebSafeBase64Escape(canary)};
}

std::unique_ptr<DirectVault> OpenVault(storage::Storage* storage) {
  RecordVault::Options options;
  options.storage = storage;
  options.master_key = TestMasterKey(1);
  auto vault = DirectVault::Create(std::move(options));
  EXPECT_THAT(vault, IsOk());
  return vault.ok() ? std::move(vault).value() : nullptr;
}

google::protobuf::RepeatedPtrField<haven::v1::Field> CanaryFields(
    const std::string& canary) {
  google::protobuf::RepeatedPtrField<haven::v1::Field> fields;
  const std::pair<const char*, haven::v1::Category> kinds[] = {
      {"name", haven::v1::IDENTITY},
      {"address", haven::v1::LOCATION},
      {"notes", haven::v1::CASE_NOTES}};
  for (const auto& [name, category] : kinds) {
    haven::v1::Field* f = fields.Add();
    f->set_name(name);
    f->set_category(category);
    f->set_value(absl::StrCat("before ", canary, " after"));
  }
  return fields;
}

TEST(VaultAtRestTest, CanaryNeverReachesAnyFile) {
  ScopedTempDir dir;
  const std::string canary = absl::StrCat(
      "CANARY-", absl::BytesToHexString(crypto::RandomBytes(12)), "-Ana");
  {
    auto storage = OpenStorage(dir.path());
    ASSERT_NE(storage, nullptr);
    auto vault = OpenVault(storage.get());
    ASSERT_NE(vault, nullptr);
    std::vector<std::pair<std::string, std::string>> ids;
    for (int s = 0; s < 3; ++s) {
      auto subject = vault->CreateSubject();
      ASSERT_THAT(subject, IsOk());
      for (int r = 0; r < 4; ++r) {
        auto put = vault->Put(*subject, "", CanaryFields(canary));
        ASSERT_THAT(put, IsOk());
        ids.emplace_back(*subject, put->record_id);
      }
    }
    // Some records only in the WAL, some flushed and compacted.
    ASSERT_THAT(storage->Compact(storage::Family::kVault, "", ""), IsOk());
    auto more = vault->CreateSubject();
    ASSERT_THAT(more, IsOk());
    ASSERT_THAT(vault->Put(*more, "", CanaryFields(canary)), IsOk());
    for (const auto& [subject, record] : ids) {
      auto got = vault->Get(subject, record);
      ASSERT_THAT(got, IsOk());
      EXPECT_EQ(got->fields(2).value(),
                absl::StrCat("before ", canary, " after"));
    }
    for (const std::string& needle : Encodings(canary)) {
      EXPECT_THAT(FilesContaining(dir.path(), needle), IsEmpty()) << needle;
    }
  }
  // Restart, read everything back, and scan again.
  {
    auto storage = OpenStorage(dir.path());
    ASSERT_NE(storage, nullptr);
    storage::Database* db = &storage->database();
    auto vault = OpenVault(storage.get());
    ASSERT_NE(vault, nullptr);
    ASSERT_THAT(FlushAll(*db), IsOk());
  }
  EXPECT_GE(CountFiles(dir.path()), 5u);
  for (const std::string& needle : Encodings(canary)) {
    EXPECT_THAT(FilesContaining(dir.path(), needle), IsEmpty()) << needle;
  }

  // Control: the scan does find plaintext that RocksDB stores in clear.
  {
    auto storage = OpenStorage(dir.path());
    ASSERT_NE(storage, nullptr);
    storage::Database* db = &storage->database();
    ASSERT_TRUE(db->db()
                    ->Put({}, db->family(storage::Family::kConsent), "control",
                          absl::StrCat("plain ", canary))
                    .ok());
    ASSERT_THAT(FlushAll(*db), IsOk());
  }
  EXPECT_THAT(FilesContaining(dir.path(), canary), Not(IsEmpty()));
}

TEST(VaultAtRestTest, ErasedSubjectsWrappedKeyLeavesEveryFile) {
  ScopedTempDir dir;
  std::string wrapped_key, record_ciphertext, kept_wrapped_key, subject;
  {
    auto storage = OpenStorage(dir.path());
    ASSERT_NE(storage, nullptr);
    storage::Database* db = &storage->database();
    auto vault = OpenVault(storage.get());
    ASSERT_NE(vault, nullptr);
    auto erased = vault->CreateSubject();
    auto kept = vault->CreateSubject();
    ASSERT_THAT(erased, IsOk());
    ASSERT_THAT(kept, IsOk());
    subject = *erased;
    std::string record_id;
    for (int r = 0; r < 5; ++r) {
      auto put = vault->Put(subject, "", CanaryFields("erase me"));
      ASSERT_THAT(put, IsOk());
      record_id = put->record_id;
      ASSERT_THAT(vault->Put(*kept, "", CanaryFields("keep me")), IsOk());
    }
    auto* family = db->family(storage::Family::kVault);
    ASSERT_TRUE(
        db->db()->Get({}, family, DataKeyKey(subject), &wrapped_key).ok());
    ASSERT_TRUE(
        db->db()
            ->Get({}, family, RecordKey(subject, record_id), &record_ciphertext)
            .ok());
    ASSERT_TRUE(
        db->db()->Get({}, family, DataKeyKey(*kept), &kept_wrapped_key).ok());
    // The wrapped key must be on disk in SST files and in the WAL before the
    // erase, or the test proves nothing.
    ASSERT_THAT(FlushAll(*db), IsOk());
    ASSERT_THAT(FilesContaining(dir.path(), wrapped_key), Not(IsEmpty()));

    auto count = vault->Erase(subject);
    ASSERT_THAT(count, IsOk());
    EXPECT_EQ(*count, 5u);
    EXPECT_THAT(vault->List(subject), StatusIs(absl::StatusCode::kNotFound));

    EXPECT_THAT(FilesContaining(dir.path(), wrapped_key), IsEmpty());
    EXPECT_THAT(FilesContaining(dir.path(), record_ciphertext), IsEmpty());
    // The scan is not vacuous: the other subject's key is still there.
    EXPECT_THAT(FilesContaining(dir.path(), kept_wrapped_key), Not(IsEmpty()));
  }
  // And after a restart.
  {
    auto storage = OpenStorage(dir.path());
    ASSERT_NE(storage, nullptr);
    auto vault = OpenVault(storage.get());
    ASSERT_NE(vault, nullptr);
    EXPECT_THAT(vault->List(subject), StatusIs(absl::StatusCode::kNotFound));
  }
  EXPECT_THAT(FilesContaining(dir.path(), wrapped_key), IsEmpty());
  EXPECT_THAT(FilesContaining(dir.path(), record_ciphertext), IsEmpty());
}

}  // namespace
}  // namespace haven::server::vault
