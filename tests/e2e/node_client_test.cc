// The client library (haven::client::NodeClient and its pager) against a
// real havend: what an agency tool built on it sees. Typed calls with the
// right token succeed; a wrong token or a missed deadline comes back as an
// absl::Status with the right code and a message a user can act on; the
// entry pager returns every audit entry once across page boundaries.
#include "client/node_client.h"

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client/paged_reads.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

using ::haven::client::ConnectionOptions;
using ::haven::client::EntryPager;
using ::haven::client::NodeClient;
using ::testing::HasSubstr;
using ::testing::Not;

class NodeClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    node_ = StartLoneNode(dir_.path(), pki_.path(), &error);
    ASSERT_NE(node_, nullptr) << error;
  }

  ConnectionOptions Options(const std::string& token) const {
    ConnectionOptions options;
    options.address = node_->local_address();
    options.ca_file = node_->ca_file();
    options.server_name = node_->agency_id();
    options.token = token;
    return options;
  }

  std::unique_ptr<NodeClient> Client(const ConnectionOptions& options) const {
    auto client = NodeClient::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  std::unique_ptr<NodeClient> ClientAs(const std::string& role) const {
    return Client(Options(node_->token(role)));
  }

  // Writes `n` records, each an audit entry.
  void WriteRecords(int n) {
    auto caseworker = ClientAs("caseworker");
    ASSERT_NE(caseworker, nullptr);
    auto subject = caseworker->CreateSubject(v1::CreateSubjectRequest());
    ASSERT_TRUE(subject.ok()) << subject.status();
    for (int i = 0; i < n; ++i) {
      v1::PutRecordRequest put;
      put.set_subject_id(subject->subject_id());
      v1::Field* field = put.add_fields();
      field->set_name("phone");
      field->set_category(v1::CONTACT);
      field->set_value("555-0100");
      auto written = caseworker->PutRecord(put);
      ASSERT_TRUE(written.ok()) << written.status();
    }
  }

  uint64_t LogSize() {
    auto checkpoint =
        ClientAs("auditor")->GetCheckpoint(v1::GetCheckpointRequest());
    EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
    return checkpoint.ok() ? checkpoint->checkpoint().tree_size() : 0;
  }

  TempDir dir_;
  TempDir pki_;
  std::unique_ptr<TestNode> node_;
};

TEST_F(NodeClientTest, TypedCallWithTheRightTokenSucceeds) {
  auto status = ClientAs("admin")->GetStatus(v1::GetStatusRequest());
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->agency_id(), node_->agency_id());
}

TEST_F(NodeClientTest, WrongTokenIsUnauthenticatedWithAClearMessage) {
  const std::string wrong = "not-a-token-of-this-node";
  auto status = Client(Options(wrong))->GetStatus(v1::GetStatusRequest());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.status().message(), HasSubstr("token"));
  // The secret itself never comes back in a message.
  EXPECT_THAT(status.status().message(), Not(HasSubstr(wrong)));
}

TEST_F(NodeClientTest, RoleWithoutTheRightIsPermissionDenied) {
  auto status =
      ClientAs("caseworker")->ReloadManifest(v1::ReloadManifestRequest());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(NodeClientTest, EveryCallCarriesTheConfiguredDeadline) {
  ConnectionOptions options = Options(node_->token("admin"));
  // Far too short for a TLS handshake and a call: the deadline must fire.
  options.timeout = std::chrono::milliseconds(1);
  auto status = Client(options)->GetStatus(v1::GetStatusRequest());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(NodeClientTest, PagerReturnsEveryEntryOnceAcrossPageBoundaries) {
  WriteRecords(7);
  const uint64_t size = LogSize();
  ASSERT_GE(size, 8u);
  auto auditor = ClientAs("auditor");
  // Pages of 3 so that the log spans several and the last one is partial.
  EntryPager pager(*auditor, 0, EntryPager::kToEnd, 3);
  std::vector<uint64_t> indices;
  int pages = 0;
  for (int guard = 0; guard < 1000; ++guard) {
    auto page = pager.NextPage();
    ASSERT_TRUE(page.ok()) << page.status();
    if (page->empty()) break;
    ++pages;
    EXPECT_LE(page->size(), 3u);
    for (const v1::IndexedEntry& entry : *page) {
      indices.push_back(entry.index());
      // The parsed entry is filled in, whether or not the node sent it.
      EXPECT_NE(entry.entry().kind(), v1::ENTRY_KIND_UNSPECIFIED);
    }
  }
  EXPECT_GE(pages, 3);
  ASSERT_GE(indices.size(), size);
  for (uint64_t i = 0; i < indices.size(); ++i) EXPECT_EQ(indices[i], i);
  EXPECT_EQ(std::set<uint64_t>(indices.begin(), indices.end()).size(),
            indices.size());
}

TEST_F(NodeClientTest, FetchEntriesReturnsExactlyTheRange) {
  WriteRecords(3);
  auto entries = client::FetchEntries(*ClientAs("auditor"), 1, 4);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].index(), 1u);
  EXPECT_EQ((*entries)[2].index(), 3u);
}

// Reading "to the end" stops at the end of the log (it once asked for the
// next page forever).
TEST_F(NodeClientTest, FetchEntriesToTheEndStopsAtTheLogsEnd) {
  WriteRecords(3);
  auto entries =
      client::FetchEntries(*ClientAs("auditor"), 0, client::EntryPager::kToEnd);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_GE(entries->size(), 4u);
  for (size_t i = 0; i < entries->size(); ++i) {
    EXPECT_EQ((*entries)[i].index(), i);
  }
}

TEST_F(NodeClientTest, FollowStreamUsesTheSameCredentials) {
  v1::FollowRequest request;
  request.set_start(0);
  auto stream = ClientAs("auditor")->Follow(request);
  v1::FollowResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.entry().index(), 0u);
  stream->Cancel();
  EXPECT_EQ(stream->Finish().code(), absl::StatusCode::kCancelled);

  auto refused = Client(Options("wrong"))->Follow(request);
  EXPECT_FALSE(refused->Read(&response));
  EXPECT_EQ(refused->Finish().code(), absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace haven::testing
