#include "server/audit/break_glass_reviews.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_log.h"

namespace haven::server::audit {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;

class BreakGlassReviewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = haven::testing::TestLog::Create();
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    reviews_ = std::make_unique<BreakGlassReviews>(&log_->recorder());
  }
  uint64_t Log(haven::v1::EntryKind kind) {
    haven::v1::AuditEntry entry;
    entry.set_kind(kind);
    auto index = log_->recorder().Record(entry, "caseworker", "");
    EXPECT_THAT(index, IsOk());
    return index.ok() ? *index : 0;
  }

  std::unique_ptr<haven::testing::TestLog> log_;
  std::unique_ptr<BreakGlassReviews> reviews_;
  const std::string note_ = "justified: a child was at risk that night";
};

TEST_F(BreakGlassReviewsTest, DecisionWaitsForItsSignOffThenShowsIt) {
  const uint64_t decision = Log(haven::v1::BREAK_GLASS);
  auto pending = reviews_->List(/*include_signed_off=*/false);
  ASSERT_THAT(pending, IsOk());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].decision().index(), decision);

  auto signed_off = reviews_->SignOff("auditor", decision, note_);
  ASSERT_THAT(signed_off, IsOk());
  auto left = reviews_->List(/*include_signed_off=*/false);
  ASSERT_THAT(left, IsOk());
  EXPECT_TRUE(left->empty());
  auto all = reviews_->List(/*include_signed_off=*/true);
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].sign_off().index(), *signed_off);
  EXPECT_EQ((*all)[0].sign_off().entry().reviewed_index(), decision);
}

TEST_F(BreakGlassReviewsTest, SecondSignOffIsRefused) {
  const uint64_t decision = Log(haven::v1::BREAK_GLASS);
  ASSERT_THAT(reviews_->SignOff("auditor", decision, note_), IsOk());
  EXPECT_THAT(reviews_->SignOff("auditor", decision, note_),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(BreakGlassReviewsTest, OnlyBreakGlassDecisionsCanBeSignedOff) {
  const uint64_t other = Log(haven::v1::RECORD_READ);
  const uint64_t size = log_->log().Size();
  EXPECT_THAT(reviews_->SignOff("auditor", other, note_),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(reviews_->SignOff("auditor", size + 5, note_),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(log_->log().Size(), size);
}

TEST_F(BreakGlassReviewsTest, SignOffMustSayWhatTheReviewFound) {
  const uint64_t decision = Log(haven::v1::BREAK_GLASS);
  EXPECT_THAT(reviews_->SignOff("auditor", decision, "ok"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(reviews_->SignOff("auditor", decision, ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(BreakGlassReviewsTest, ScanStopsWhenTheVisitorSaysSo) {
  for (int i = 0; i < 5; ++i) Log(haven::v1::RECORD_READ);
  int seen = 0;
  ASSERT_THAT(ScanLog(log_->log(),
                      [&](const haven::v1::IndexedEntry&) {
                        return ++seen < 3;
                      }),
              IsOk());
  EXPECT_EQ(seen, 3);
}

}  // namespace
}  // namespace haven::server::audit
