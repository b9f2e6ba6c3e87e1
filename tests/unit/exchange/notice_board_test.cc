#include "server/exchange/notice_board.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/base/limits.h"

namespace haven::server::exchange {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

haven::v1::RevocationNotice Notice(int i) {
  haven::v1::RevocationNotice notice;
  notice.set_notice_id(absl::StrCat("n", i));
  notice.set_change("revoked");
  return notice;
}

std::vector<std::string> Ids(const NoticeBoard::Page& page) {
  std::vector<std::string> ids;
  for (const auto& notice : page.notices) ids.push_back(notice.notice_id());
  return ids;
}

TEST(NoticeBoardTest, KeepsOnlyTheNewestAndTellsWatchersWhereTheyAre) {
  NoticeBoard board(/*keep=*/3);
  board.Publish(Notice(0));
  // A watcher that keeps up gets every notice, from where it asked.
  NoticeBoard::Page page = board.Since(0, absl::ZeroDuration());
  EXPECT_EQ(page.first, 0u);
  EXPECT_THAT(Ids(page), ElementsAre("n0"));

  for (int i = 1; i < 6; ++i) board.Publish(Notice(i));
  // One that fell behind gets what is still held, and the position of the
  // first of it: notices 1 and 2 were dropped (their audit entries remain).
  page = board.Since(1, absl::ZeroDuration());
  EXPECT_EQ(page.first, 3u);
  EXPECT_THAT(Ids(page), ElementsAre("n3", "n4", "n5"));
  // A new watcher (from 0) likewise.
  page = board.Since(0, absl::ZeroDuration());
  EXPECT_EQ(page.first, 3u);
  EXPECT_THAT(Ids(page), ElementsAre("n3", "n4", "n5"));
  // One still within what is held misses nothing.
  page = board.Since(4, absl::ZeroDuration());
  EXPECT_EQ(page.first, 4u);
  EXPECT_THAT(Ids(page), ElementsAre("n4", "n5"));
  // One that has everything waits, then gets nothing new.
  page = board.Since(6, absl::Milliseconds(1));
  EXPECT_EQ(page.first, 6u);
  EXPECT_THAT(page.notices, IsEmpty());
}

TEST(NoticeBoardTest, KeepsTheDefaultNumberOfNotices) {
  NoticeBoard board;
  const size_t published = limits::kNoticesKept + 10;
  for (size_t i = 0; i < published; ++i) board.Publish(Notice(i));
  NoticeBoard::Page page = board.Since(0, absl::ZeroDuration());
  EXPECT_EQ(page.first, 10u);
  ASSERT_EQ(page.notices.size(), limits::kNoticesKept);
  EXPECT_EQ(page.notices.front().notice_id(), "n10");
  EXPECT_EQ(page.notices.back().notice_id(), absl::StrCat("n", published - 1));
}

TEST(NoticeBoardTest, WatcherWaitsForTheNextNotice) {
  NoticeBoard board(/*keep=*/3);
  std::thread publisher([&board] { board.Publish(Notice(0)); });
  // Bounded: the publisher runs at once; the wait only covers scheduling.
  NoticeBoard::Page page = board.Since(0, absl::Seconds(30));
  publisher.join();
  EXPECT_EQ(page.first, 0u);
  EXPECT_THAT(Ids(page), ElementsAre("n0"));
}

}  // namespace
}  // namespace haven::server::exchange
