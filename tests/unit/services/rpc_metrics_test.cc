#include "server/services/rpc_metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/v1/exchange.pb.h"
#include "haven/v1/records.pb.h"

namespace haven::server::services {
namespace {

using ::testing::Pair;

TEST(RpcMetricsTest, MethodsThisBinaryServesAreLabelledByName) {
  // Links the generated files in, as every service of havend does.
  ASSERT_NE(haven::v1::PutRecordRequest::descriptor(), nullptr);
  ASSERT_NE(haven::v1::DiscloseRequest::descriptor(), nullptr);
  EXPECT_THAT(RpcMethodLabels("/haven.v1.RecordService/PutRecord"),
              Pair("haven.v1.RecordService", "PutRecord"));
  EXPECT_THAT(RpcMethodLabels("/haven.v1.PeerService/Disclose"),
              Pair("haven.v1.PeerService", "Disclose"));
  EXPECT_THAT(RpcMethodLabels("/grpc.health.v1.Health/Check"),
              Pair("grpc.health.v1.Health", "Check"));
}

// The path comes off the wire: anything but a known method's own name is
// one fixed label, so a caller cannot put text into the metrics.
TEST(RpcMetricsTest, AnyOtherPathIsUnknown) {
  for (const char* path :
       {"", "/", "//", "no-slash", "/haven.v1.RecordService/",
        "/haven.v1.RecordService/NoSuchMethod",
        "/haven.v1.NoSuchService/PutRecord",
        "/haven.v1/RecordService.PutRecord",
        "/haven.v1.RecordService/PutRecord/extra",
        "/subject-4f2a9c/token-secret", "/grpc.health.v1.Health/List"}) {
    SCOPED_TRACE(path);
    EXPECT_THAT(RpcMethodLabels(path), Pair("unknown", "unknown"));
  }
}

}  // namespace
}  // namespace haven::server::services
