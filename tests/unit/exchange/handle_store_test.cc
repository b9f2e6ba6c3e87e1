#include "server/exchange/handle_store.h"

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace haven::server::exchange {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;

class HandleStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::Database::Options options;
    options.path = dir_.Join("db");
    auto db = storage::Database::Open(std::move(options));
    ASSERT_THAT(db, IsOk());
    db_ = *std::move(db);
    store_ = std::make_unique<HandleStore>(db_.get());
  }
  haven::testing::TempDir dir_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<HandleStore> store_;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

TEST_F(HandleStoreTest, HandleResolvesOnlyForItsGrantee) {
  auto handle = store_->IssueHandle("safe-harbor", "subj1", "legal-aid", now_);
  ASSERT_THAT(handle, IsOk());
  EXPECT_EQ(store_->Resolve(handle->handle(), "legal-aid").value(), "subj1");

  auto wrong_agency = store_->Resolve(handle->handle(), "metro-pd");
  auto unknown =
      store_->Resolve("00112233445566778899aabbccddeeff", "legal-aid");
  EXPECT_THAT(wrong_agency, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(unknown, StatusIs(absl::StatusCode::kNotFound));
  // Indistinguishable to the caller.
  EXPECT_EQ(wrong_agency.status().message(), unknown.status().message());
}

TEST_F(HandleStoreTest, SameSubjectAndGranteeKeepsOneHandle) {
  auto first = store_->IssueHandle("safe-harbor", "subj1", "legal-aid", now_);
  auto second = store_->IssueHandle("safe-harbor", "subj1", "legal-aid", now_);
  auto other = store_->IssueHandle("safe-harbor", "subj1", "metro-pd", now_);
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->handle(), second->handle());
  EXPECT_NE(first->handle(), other->handle());
  auto all = store_->HandlesForSubject("subj1");
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->size(), 2u);
  EXPECT_TRUE(store_->HandlesForSubject("subj2")->empty());
}

TEST_F(HandleStoreTest, ReceivedHandlesAreListed) {
  haven::v1::SubjectHandle handle;
  handle.set_handle("abc");
  handle.set_holder_agency_id("safe-harbor");
  handle.set_grantee_agency_id("legal-aid");
  ASSERT_THAT(store_->StoreReceived(handle), IsOk());
  auto listed = store_->ListReceived();
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].handle(), "abc");
  EXPECT_THAT(store_->StoreReceived(haven::v1::SubjectHandle()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace haven::server::exchange
