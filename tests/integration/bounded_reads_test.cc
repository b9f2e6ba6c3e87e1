// The local read APIs over a real gRPC channel, in process: what a peer's
// input or a large log does to what a local client can read. Each response
// must fit under gRPC's default 4 MiB message limit, and a client that
// pages as havenctl does must get everything.
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "haven/base/limits.h"
#include "haven/v1/audit.grpc.pb.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "server/audit/audit_log.h"
#include "server/auth/authenticator.h"
#include "server/crypto/digest.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/notice_board.h"
#include "server/services/audit_service.h"
#include "server/services/exchange_service.h"
#include "server/services/rpc_env.h"
#include "server/services/work_pool.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_log.h"

namespace haven::server::services {
namespace {

using ::haven::testing::IsOk;
using ::testing::ElementsAre;

constexpr char kToken[] = "bounded-reads-test-token";

haven::v1::RevocationNotice Notice(int i) {
  haven::v1::RevocationNotice notice;
  notice.set_notice_id(absl::StrCat("n", i));
  notice.set_change("revoked");
  return notice;
}

class BoundedReadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = haven::testing::TestLog::Create("legal-aid");
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);

    google::protobuf::RepeatedPtrField<haven::v1::LocalPrincipal> principals;
    for (haven::v1::Role role : {haven::v1::CASEWORKER, haven::v1::AUDITOR}) {
      haven::v1::LocalPrincipal* p = principals.Add();
      p->set_name(absl::StrCat("test-", haven::v1::Role_Name(role)));
      p->set_role(role);
      p->set_token_sha256(
          absl::BytesToHexString(crypto::Sha256(absl::StrCat(kToken, role))));
    }
    authenticator_ = std::make_unique<auth::Authenticator>(principals);
    env_.authenticator = authenticator_.get();
    env_.pool = &pool_;
    env_.storage = &log_->storage();
    handles_ = std::make_unique<exchange::HandleStore>(&log_->storage(),
                                                       &log_->sealer());
    exchange_ = std::make_unique<ExchangeServiceImpl>(
        env_, ExchangeServiceImpl::Deps{nullptr, handles_.get(), &notices_});
    audit_ = std::make_unique<AuditServiceImpl>(
        env_, AuditServiceImpl::Deps{&log_->recorder()});

    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(exchange_.get());
    builder.RegisterService(audit_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  std::unique_ptr<grpc::ClientContext> Call(haven::v1::Role role) {
    auto call = std::make_unique<grpc::ClientContext>();
    call->AddMetadata("authorization", absl::StrCat("Bearer ", kToken, role));
    call->set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
    return call;
  }

  std::unique_ptr<haven::testing::TestLog> log_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  WorkPool pool_{2};
  exchange::NoticeBoard notices_{/*keep=*/3};
  std::unique_ptr<exchange::HandleStore> handles_;
  RpcEnv env_;
  std::unique_ptr<ExchangeServiceImpl> exchange_;
  std::unique_ptr<AuditServiceImpl> audit_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(BoundedReadsTest, WatcherIsToldHowManyNoticesItMissed) {
  // Five notices on a board that keeps three: a watch starting now gets
  // the newest three, and the first says two were dropped before it.
  for (int i = 0; i < 5; ++i) notices_.Publish(Notice(i));
  auto stub = haven::v1::ExchangeService::NewStub(channel_);
  auto call = Call(haven::v1::CASEWORKER);
  auto reader = stub->WatchNotices(call.get(), {});
  std::vector<std::string> ids;
  std::vector<uint64_t> positions;
  std::vector<uint64_t> missed;
  haven::v1::WatchNoticesResponse response;
  while (ids.size() < 3 && reader->Read(&response)) {
    ids.push_back(response.notice().notice_id());
    positions.push_back(response.position());
    missed.push_back(response.missed());
  }
  // New notices follow, numbered on.
  notices_.Publish(Notice(5));
  if (reader->Read(&response)) {
    ids.push_back(response.notice().notice_id());
    positions.push_back(response.position());
    missed.push_back(response.missed());
  }
  call->TryCancel();
  reader->Finish();
  EXPECT_THAT(ids, ElementsAre("n2", "n3", "n4", "n5"));
  EXPECT_THAT(positions, ElementsAre(2, 3, 4, 5));
  EXPECT_THAT(missed, ElementsAre(2, 0, 0, 0));
}

TEST_F(BoundedReadsTest, HandleListingComesInPagesUnderTheMessageLimit) {
  // Two received handles as large as offers could once make them (2.5 MB
  // each, kept by a node from before offers were bounded), among small
  // ones: one response with all of them passed gRPC's 4 MiB limit, so
  // listing failed for every holder.
  storage::WriteBatch batch;
  std::vector<std::string> stored;
  for (int i = 0; i < 2500; ++i) {
    haven::v1::SubjectHandle h;
    h.set_handle(absl::StrFormat("%032x", i));
    h.set_holder_agency_id(i % 2 == 0 ? "safe-harbor" : "clinic");
    h.set_grantee_agency_id("legal-aid");
    if (i == 2001 || i == 2002) {
      h.GetReflection()->MutableUnknownFields(&h)->AddLengthDelimited(
          1000, std::string(5 << 19, 'x'));
    }
    handles_->StoreReceived(h, &batch);
    stored.push_back(h.handle());
  }
  ASSERT_THAT(log_->log().CommitState(std::move(batch)), IsOk());

  // As havenctl pages: every handle, once, in pages under the limit.
  auto stub = haven::v1::ExchangeService::NewStub(channel_);
  haven::v1::ListHandlesRequest request;
  std::vector<std::string> listed;
  int pages = 0;
  do {
    haven::v1::ListHandlesResponse response;
    grpc::Status status = stub->ListHandles(Call(haven::v1::CASEWORKER).get(),
                                            request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_LE(response.handles_size(), 1000);
    for (const auto& h : response.handles()) listed.push_back(h.handle());
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty() && ++pages < 100);
  std::sort(listed.begin(), listed.end());
  std::sort(stored.begin(), stored.end());
  EXPECT_EQ(listed, stored);

  // A small page size is honoured; a token no node gives out is refused.
  request.set_page_size(10);
  request.clear_page_token();
  haven::v1::ListHandlesResponse response;
  ASSERT_TRUE(
      stub->ListHandles(Call(haven::v1::CASEWORKER).get(), request, &response)
          .ok());
  EXPECT_EQ(response.handles_size(), 10);
  request.set_page_token(std::string(10000, 'z'));
  EXPECT_EQ(
      stub->ListHandles(Call(haven::v1::CASEWORKER).get(), request, &response)
          .error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(BoundedReadsTest, AuditReadsStayUnderTheMessageLimit) {
  // Small entries around three of 1.5 MiB (twice that as read: the leaf
  // and its parsed copy) and one of 2.5 MiB, which with its copy passes
  // 4 MiB alone. One read of them all passed gRPC's limit, so `havenctl
  // audit verify` and `audit tail` failed.
  std::vector<std::string> leaves;
  auto append = [&](size_t detail_bytes) {
    haven::v1::AuditEntry e;
    e.set_kind(haven::v1::RECORD_WRITTEN);
    e.set_detail(std::string(detail_bytes, 'd'));
    leaves.push_back(audit::AuditLog::CanonicalLeaf(e));
    return log_->log().Append(e).status();
  };
  for (int i = 0; i < 10; ++i) ASSERT_THAT(append(100), IsOk());
  for (int i = 0; i < 3; ++i) ASSERT_THAT(append(3 << 19), IsOk());
  ASSERT_THAT(append(5 << 19), IsOk());
  for (int i = 0; i < 6; ++i) ASSERT_THAT(append(100), IsOk());
  const uint64_t huge = 13;

  // As havenctl reads: from the index after the last entry it got.
  auto stub = haven::v1::AuditService::NewStub(channel_);
  std::vector<haven::v1::IndexedEntry> got;
  int reads = 0;
  while (got.size() < leaves.size() && reads++ < 100) {
    haven::v1::GetEntriesRequest request;
    request.set_start(got.size());
    request.set_count(1000);
    haven::v1::GetEntriesResponse response;
    grpc::Status status =
        stub->GetEntries(Call(haven::v1::AUDITOR).get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_GT(response.entries_size(), 0);
    for (const auto& e : response.entries()) got.push_back(e);
  }
  ASSERT_EQ(got.size(), leaves.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].index(), i);
    EXPECT_EQ(got[i].leaf(), leaves[i]) << i;
    // The parsed copy is left out only where it would not fit.
    EXPECT_EQ(got[i].has_entry(), i != huge) << i;
  }

  // Follow sends the same, one entry per message.
  auto call = Call(haven::v1::AUDITOR);
  haven::v1::FollowRequest follow;
  follow.set_start(8);
  auto reader = stub->Follow(call.get(), follow);
  haven::v1::FollowResponse message;
  uint64_t next = 8;
  while (next < leaves.size() && reader->Read(&message)) {
    EXPECT_EQ(message.entry().index(), next);
    EXPECT_EQ(message.entry().leaf(), leaves[next]);
    ++next;
  }
  call->TryCancel();
  reader->Finish();
  EXPECT_EQ(next, leaves.size());

  // An entry whose leaf alone passes the limit cannot be sent: a status
  // that says so, rather than a transport error.
  ASSERT_THAT(append(limits::kMaxItemReadBytes), IsOk());
  haven::v1::GetEntriesRequest request;
  request.set_start(leaves.size() - 1);
  haven::v1::GetEntriesResponse response;
  EXPECT_EQ(stub->GetEntries(Call(haven::v1::AUDITOR).get(), request, &response)
                .error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace haven::server::services
