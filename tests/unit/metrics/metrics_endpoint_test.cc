#include "server/metrics/metrics_endpoint.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace haven::server::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class MetricsEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.AddCounter("haven_test_total", "Help.", {})->Increment({});
    auto endpoint = MetricsEndpoint::Start("127.0.0.1:0", &registry_);
    ASSERT_TRUE(endpoint.ok()) << endpoint.status();
    endpoint_ = *std::move(endpoint);
  }
  httplib::Client Client() const {
    httplib::Client client("http://" + endpoint_->address());
    client.set_connection_timeout(5);
    client.set_read_timeout(5);
    return client;
  }

  Registry registry_;
  std::unique_ptr<MetricsEndpoint> endpoint_;
};

TEST_F(MetricsEndpointTest, ServesTheExpositionOnGetMetrics) {
  EXPECT_THAT(endpoint_->address(), StartsWith("127.0.0.1:"));
  EXPECT_NE(endpoint_->address(), "127.0.0.1:0");
  auto response = Client().Get("/metrics");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->get_header_value("Content-Type"),
              StartsWith("text/plain; version=0.0.4"));
  EXPECT_THAT(response->body, HasSubstr("haven_test_total 1\n"));
}

TEST_F(MetricsEndpointTest, AnswersNothingElse) {
  auto other = Client().Get("/");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  auto post = Client().Post("/metrics", "x=1", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_NE(post->status, 200);
  EXPECT_THAT(post->body, Not(HasSubstr("haven_test_total")));
}

TEST_F(MetricsEndpointTest, StopsAndRefusesConnections) {
  const std::string address = endpoint_->address();
  endpoint_->Stop();
  endpoint_->Stop();  // idempotent
  httplib::Client client("http://" + address);
  client.set_connection_timeout(2);
  EXPECT_FALSE(client.Get("/metrics"));
}

TEST(MetricsEndpointStartTest, RefusesAMalformedOrTakenAddress) {
  Registry registry;
  EXPECT_EQ(MetricsEndpoint::Start("no-port", &registry).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto first = MetricsEndpoint::Start("127.0.0.1:0", &registry);
  ASSERT_TRUE(first.ok());
  auto second = MetricsEndpoint::Start((*first)->address(), &registry);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace haven::server::metrics
