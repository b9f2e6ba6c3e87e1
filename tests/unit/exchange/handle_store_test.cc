#include "server/exchange/handle_store.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/base/limits.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_log.h"

namespace haven::server::exchange {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSubject[] = "0123456789abcdef0123456789abcdef";
constexpr char kOtherSubject[] = "fedcba9876543210fedcba9876543210";

class HandleStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = haven::testing::TestLog::Create();
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    store_ = std::make_unique<HandleStore>(&log_->storage(), &log_->sealer());
  }
  // Commits `batch` as the node would, with the state summary kept true.
  void Commit(storage::WriteBatch batch) {
    ASSERT_THAT(log_->log().CommitState(std::move(batch)), IsOk());
  }
  haven::v1::IssuedHandle Issue(const std::string& subject,
                                const std::string& grantee) {
    haven::v1::IssuedHandle issued =
        HandleStore::NewHandle("safe-harbor", subject, grantee, now_);
    storage::WriteBatch batch;
    store_->Issue(issued, &batch);
    Commit(std::move(batch));
    return issued;
  }

  std::unique_ptr<haven::testing::TestLog> log_;
  std::unique_ptr<HandleStore> store_;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

TEST_F(HandleStoreTest, HandleResolvesOnlyForItsGrantee) {
  haven::v1::IssuedHandle issued = Issue(kSubject, "legal-aid");
  EXPECT_EQ(store_->Resolve(issued.handle().handle(), "legal-aid").value(),
            kSubject);

  auto wrong_agency = store_->Resolve(issued.handle().handle(), "metro-pd");
  auto unknown =
      store_->Resolve("00112233445566778899aabbccddeeff", "legal-aid");
  auto malformed = store_->Resolve("../../etc", "legal-aid");
  EXPECT_THAT(wrong_agency, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(unknown, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(malformed, StatusIs(absl::StatusCode::kNotFound));
  // Indistinguishable to the caller.
  EXPECT_EQ(wrong_agency.status().message(), unknown.status().message());
  EXPECT_EQ(malformed.status().message(), unknown.status().message());
}

TEST_F(HandleStoreTest, WithdrawnHandleIsLikeAnUnknownOne) {
  haven::v1::IssuedHandle issued = Issue(kSubject, "legal-aid");
  storage::WriteBatch batch;
  store_->Withdraw(issued, &batch);
  Commit(std::move(batch));
  EXPECT_THAT(store_->Resolve(issued.handle().handle(), "legal-aid"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->Find(kSubject, "legal-aid"), IsOk());
  EXPECT_FALSE(store_->Find(kSubject, "legal-aid")->has_value());
  EXPECT_TRUE(store_->HandlesForSubject(kSubject)->empty());
}

TEST_F(HandleStoreTest, HandlesAreFoundBySubjectAndGrantee) {
  haven::v1::IssuedHandle la = Issue(kSubject, "legal-aid");
  haven::v1::IssuedHandle pd = Issue(kSubject, "metro-pd");
  Issue(kOtherSubject, "legal-aid");
  auto found = store_->Find(kSubject, "metro-pd");
  ASSERT_THAT(found, IsOk());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->handle().handle(), pd.handle().handle());
  auto all = store_->HandlesForSubject(kSubject);
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->size(), 2u);
  EXPECT_NE(la.handle().handle(), pd.handle().handle());
}

TEST_F(HandleStoreTest, NothingStoredNamesTheSubjectOrTheGrantee) {
  Issue(kSubject, "legal-aid");
  for (const std::string& key :
       log_->storage().Keys(storage::Family::kExchange)) {
    EXPECT_THAT(key, Not(HasSubstr(kSubject)));
    EXPECT_THAT(key, Not(HasSubstr("legal-aid")));
    auto value = log_->storage().Get(storage::Family::kExchange, key);
    ASSERT_THAT(value, IsOk());
    EXPECT_THAT(**value, Not(HasSubstr(kSubject)));
    EXPECT_THAT(**value, Not(HasSubstr("legal-aid")));
  }
}

TEST_F(HandleStoreTest, EditedOrSwappedValueIsDataLossNotObeyed) {
  haven::v1::IssuedHandle la = Issue(kSubject, "legal-aid");
  haven::v1::IssuedHandle pd = Issue(kOtherSubject, "metro-pd");
  const std::string key_la = absl::StrCat("h/", la.handle().handle());
  const std::string key_pd = absl::StrCat("h/", pd.handle().handle());
  auto& storage = log_->storage();
  std::string value_la = **storage.Get(storage::Family::kExchange, key_la);
  std::string value_pd = **storage.Get(storage::Family::kExchange, key_pd);

  // metro-pd's handle made to look like legal-aid's: refused, not obeyed.
  storage.Tamper(storage::Family::kExchange, key_la, value_pd);
  EXPECT_THAT(store_->Resolve(la.handle().handle(), "metro-pd"),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(store_->Resolve(la.handle().handle(), "legal-aid"),
              StatusIs(absl::StatusCode::kDataLoss));

  std::string flipped = value_la;
  flipped[flipped.size() / 2] ^= 0x01;
  storage.Tamper(storage::Family::kExchange, key_la, flipped);
  EXPECT_THAT(store_->Resolve(la.handle().handle(), "legal-aid"),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(HandleStoreTest, ReceivedHandlesAreListedAndForgotten) {
  haven::v1::SubjectHandle handle;
  handle.set_handle("00112233445566778899aabbccddeeff");
  handle.set_holder_agency_id("safe-harbor");
  handle.set_grantee_agency_id("legal-aid");
  storage::WriteBatch store;
  store_->StoreReceived(handle, &store);
  Commit(std::move(store));
  auto listed = store_->ListReceived();
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->handles.size(), 1u);
  EXPECT_EQ(listed->handles[0].handle(), handle.handle());
  EXPECT_EQ(listed->next, "");
  EXPECT_EQ(store_->CountReceived("safe-harbor").value(), 1u);
  EXPECT_EQ(store_->CountReceived("metro-pd").value(), 0u);

  storage::WriteBatch forget;
  store_->ForgetReceived("safe-harbor", handle.handle(), &forget);
  Commit(std::move(forget));
  EXPECT_TRUE(store_->ListReceived()->handles.empty());
}

haven::v1::SubjectHandle Received(const std::string& holder, int i) {
  haven::v1::SubjectHandle handle;
  handle.set_handle(absl::StrFormat("%032x", i));
  handle.set_holder_agency_id(holder);
  handle.set_grantee_agency_id("legal-aid");
  handle.set_issued_unix(1'800'000'000);
  return handle;
}

std::string KeyOf(const haven::v1::SubjectHandle& handle) {
  return absl::StrCat(handle.holder_agency_id(), "/", handle.handle());
}

TEST_F(HandleStoreTest, ReceivedHandlesArePagedInKeyOrder) {
  // Seven handles from each of two holders, stored out of order.
  std::vector<std::string> all;
  storage::WriteBatch batch;
  for (const char* holder : {"safe-harbor", "clinic"}) {
    for (int i = 6; i >= 0; --i) {
      store_->StoreReceived(Received(holder, i), &batch);
      all.push_back(KeyOf(Received(holder, i)));
    }
  }
  Commit(std::move(batch));
  std::sort(all.begin(), all.end());

  // Pages of at most three, in key order; each page's `next` is where the
  // following one starts.
  std::vector<std::string> listed;
  std::string from;
  int pages = 0;
  do {
    ++pages;
    auto page = store_->ListReceived(from, 3, limits::kMaxReadBytes);
    ASSERT_THAT(page, IsOk());
    EXPECT_LE(page->handles.size(), 3u);
    for (const auto& h : page->handles) listed.push_back(KeyOf(h));
    if (!page->next.empty()) {
      EXPECT_EQ(page->next, all[listed.size()]);
    }
    from = page->next;
  } while (!from.empty() && pages < 100);
  EXPECT_EQ(listed, all);
  EXPECT_EQ(pages, 5);

  // Bounded by bytes too: a budget of two handles gives pages of two
  // (each handle counted with its field tag and length).
  const size_t one = Received("clinic", 0).ByteSizeLong() + 2;
  auto page = store_->ListReceived("", 1000, 2 * one);
  ASSERT_THAT(page, IsOk());
  EXPECT_EQ(page->handles.size(), 2u);
  EXPECT_EQ(page->next, all[2]);
  // A budget smaller than one handle still gives one, so a reader that
  // continues from `next` always advances.
  page = store_->ListReceived(all[5], 1000, 1);
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->handles.size(), 1u);
  EXPECT_EQ(KeyOf(page->handles[0]), all[5]);
  EXPECT_EQ(page->next, all[6]);
  // The last page says there is no next.
  page = store_->ListReceived(all.back(), 3, limits::kMaxReadBytes);
  ASSERT_THAT(page, IsOk());
  EXPECT_EQ(page->handles.size(), 1u);
  EXPECT_EQ(page->next, "");
}

}  // namespace
}  // namespace haven::server::exchange
