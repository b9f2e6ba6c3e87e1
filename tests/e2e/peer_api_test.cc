// End-to-end tests of who may call a node: bearer tokens and roles on the
// local API; CA-issued certificates, the manifest and member status on the
// peer API. Real havend processes on 127.0.0.1.
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "haven/v1/admin.grpc.pb.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "haven/v1/records.grpc.pb.h"
#include "server/federation/peer_identity.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_node.h"
#include "tests/testing/test_operator_key.h"

namespace haven::testing {
namespace {

using ::testing::HasSubstr;

std::string Member(const std::string& pki, const std::string& id,
                   const std::string& sector, const std::string& status) {
  auto fingerprint = server::federation::CertificateFingerprint(
      ReadFileOrEmpty(pki + "/" + id + "/node.crt"));
  return "members { agency_id: \"" + id + "\" name: \"" + id +
         "\" sector: " + sector + " endpoint: \"127.0.0.1:1\" cert_sha256: \"" +
         fingerprint.value() + "\" status: " + status + " }\n";
}

class PeerApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(MakeCertificates(pki_.path(),
                                 {"safe-harbor", "legal-aid", "rogue"}, &error))
        << error;
    ASSERT_TRUE(MakeCertificates(other_ca_.path(), {"legal-aid"}, &error))
        << error;
    manifest_ = dir_.Join("federation.textproto");
    WriteManifest("MEMBER_ACTIVE");
    TestNode::Options options;
    options.root_dir = dir_.path();
    options.pki_dir = pki_.path();
    options.extra_config = haven::testing::FederationTrustConfig({&operator_}) +
                           "manifest_file: \"" + manifest_ + "\"\n";
    node_ = std::make_unique<TestNode>(options);
    ASSERT_TRUE(node_->Start(&error)) << error;
  }

  // Each write is a newer manifest (serial 1, 2, ...), signed as an
  // operator's is.
  void WriteManifest(const std::string& legal_aid_status) {
    std::ofstream(manifest_, std::ios::trunc) << operator_.Sign(
        "federation: \"test\"\nserial: " + std::to_string(++serial_) + "\n" +
        Member(pki_.path(), "safe-harbor", "VICTIM_SERVICES", "MEMBER_ACTIVE") +
        Member(pki_.path(), "legal-aid", "LEGAL_SERVICES", legal_aid_status));
  }

  // A mutual-TLS channel to the peer API presenting `pki`/`agency`'s cert.
  std::unique_ptr<haven::v1::PeerService::Stub> PeerStub(
      const std::string& pki, const std::string& agency) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ReadFileOrEmpty(pki_.path() + "/ca.crt");
    if (!agency.empty()) {
      tls.pem_private_key = ReadFileOrEmpty(pki + "/" + agency + "/node.key");
      tls.pem_cert_chain = ReadFileOrEmpty(pki + "/" + agency + "/node.crt");
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("safe-harbor");
    return haven::v1::PeerService::NewStub(grpc::CreateCustomChannel(
        node_->peer_address(), grpc::SslCredentials(tls), args));
  }

  grpc::Status Echo(haven::v1::PeerService::Stub& stub) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    haven::v1::EchoRequest request;
    request.set_payload("ping");
    haven::v1::EchoResponse response;
    return stub.Echo(&context, request, &response);
  }

  grpc::Status ReloadManifest(const std::string& role) {
    auto stub = haven::v1::AdminService::NewStub(node_->LocalChannel());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    if (!role.empty()) {
      context.AddMetadata("authorization", "Bearer " + node_->token(role));
    }
    haven::v1::ReloadManifestResponse response;
    return stub->ReloadManifest(&context, haven::v1::ReloadManifestRequest(),
                                &response);
  }

  TempDir pki_;
  TempDir other_ca_;
  TempDir dir_;
  std::string manifest_;
  haven::testing::TestOperatorKey operator_{"test-operator"};
  uint64_t serial_ = 0;
  std::unique_ptr<TestNode> node_;
};

TEST_F(PeerApiTest, MemberWithListedCertificateIsServed) {
  auto stub = PeerStub(pki_.path(), "legal-aid");
  grpc::Status status = Echo(*stub);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(PeerApiTest, CertificateFromAnotherCaIsRefusedInHandshake) {
  auto stub = PeerStub(other_ca_.path(), "legal-aid");
  EXPECT_EQ(Echo(*stub).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(PeerApiTest, CallerWithoutCertificateIsRefusedInHandshake) {
  auto stub = PeerStub("", "");
  EXPECT_EQ(Echo(*stub).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(PeerApiTest, CaIssuedCertificateNotInManifestIsRefused) {
  auto stub = PeerStub(pki_.path(), "rogue");
  grpc::Status status = Echo(*stub);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("manifest"));
}

TEST_F(PeerApiTest, SuspendedMemberIsRefusedRightAfterReload) {
  auto stub = PeerStub(pki_.path(), "legal-aid");
  ASSERT_TRUE(Echo(*stub).ok());
  WriteManifest("MEMBER_SUSPENDED");
  grpc::Status reload = ReloadManifest("admin");
  ASSERT_TRUE(reload.ok()) << reload.error_message();
  grpc::Status status = Echo(*stub);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("suspended"));
}

TEST_F(PeerApiTest, BrokenManifestReloadKeepsTheCurrentOne) {
  std::ofstream(manifest_, std::ios::trunc) << "members { agency_id: \n";
  grpc::Status reload = ReloadManifest("admin");
  EXPECT_EQ(reload.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(reload.error_message(),
              HasSubstr("federation.textproto is not a signed manifest"));
  auto stub = PeerStub(pki_.path(), "legal-aid");
  EXPECT_TRUE(Echo(*stub).ok());
}

TEST_F(PeerApiTest, LocalCallsNeedATokenAndTheRightRole) {
  EXPECT_EQ(ReloadManifest("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status wrong_role = ReloadManifest("caseworker");
  EXPECT_EQ(wrong_role.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(wrong_role.error_message(), HasSubstr("needs ADMIN"));

  auto stub = haven::v1::AdminService::NewStub(node_->LocalChannel());
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer not-a-real-token");
  haven::v1::GetStatusResponse response;
  grpc::Status status =
      stub->GetStatus(&context, haven::v1::GetStatusRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(),
              ::testing::Not(HasSubstr("not-a-real-token")));
}

}  // namespace
}  // namespace haven::testing
