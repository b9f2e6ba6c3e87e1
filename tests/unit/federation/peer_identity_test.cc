// IdentifyPeer over a fake TLS auth context: who a peer is, from its
// certificate and the manifest, during and after a certificate rotation.
#include "server/federation/peer_identity.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/crypto/digest.h"
#include "tests/testing/status_matchers.h"

namespace haven::server::federation {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;

// An iterator over no properties (gRPC keeps its constructor protected).
class NoProperties : public grpc::AuthPropertyIterator {
 public:
  NoProperties() = default;
};

// What gRPC's TLS layer reports for a verified client certificate: only
// the properties IdentifyPeer reads.
class FakeAuthContext final : public grpc::AuthContext {
 public:
  FakeAuthContext(std::string common_name, std::string pem)
      : common_name_(std::move(common_name)), pem_(std::move(pem)) {}

  bool IsPeerAuthenticated() const override { return true; }
  std::vector<grpc::string_ref> GetPeerIdentity() const override {
    return {common_name_};
  }
  std::string GetPeerIdentityPropertyName() const override {
    return "x509_common_name";
  }
  std::vector<grpc::string_ref> FindPropertyValues(
      const std::string& name) const override {
    if (name == "x509_common_name") return {common_name_};
    if (name == "x509_pem_cert") return {pem_};
    return {};
  }
  grpc::AuthPropertyIterator begin() const override { return NoProperties(); }
  grpc::AuthPropertyIterator end() const override { return NoProperties(); }
  void AddProperty(const std::string&, const grpc::string_ref&) override {}
  bool SetPeerIdentityPropertyName(const std::string&) override {
    return false;
  }

 private:
  std::string common_name_;
  std::string pem_;
};

// A PEM block around `der` (IdentifyPeer hashes the DER; it need not parse
// as X.509 here, the TLS layer has verified it already).
std::string Pem(const std::string& der) {
  return "-----BEGIN CERTIFICATE-----\n" + absl::Base64Escape(der) +
         "\n-----END CERTIFICATE-----\n";
}

class PeerIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    haven::v1::FederationManifest proto;
    proto.set_federation("test");
    proto.set_serial(1);
    haven::v1::Member* member = proto.add_members();
    member->set_agency_id("legal-aid");
    member->set_sector(haven::v1::LEGAL_SERVICES);
    member->set_status(haven::v1::MEMBER_ACTIVE);
    member->set_endpoint("127.0.0.1:1");
    member->set_cert_sha256(crypto::Sha256Hex(kCurrent));
    if (with_next_) {
      member->set_next_cert_sha256(crypto::Sha256Hex(kNext));
    }
    auto parsed = Manifest::Parse(proto.DebugString(), "test");
    ASSERT_THAT(parsed, IsOk());
    manifest_ = *parsed;
  }

  absl::StatusOr<haven::v1::Member> Identify(const std::string& der) const {
    return IdentifyPeer(FakeAuthContext("legal-aid", Pem(der)), *manifest_);
  }

  const std::string kCurrent = "current certificate of legal-aid";
  const std::string kNext = "next certificate of legal-aid";
  bool with_next_ = true;
  std::shared_ptr<const Manifest> manifest_;
};

TEST_F(PeerIdentityTest, CurrentCertificateIdentifiesTheMember) {
  auto member = Identify(kCurrent);
  ASSERT_THAT(member, IsOk());
  EXPECT_EQ(member->agency_id(), "legal-aid");
}

TEST_F(PeerIdentityTest, NextCertificateIdentifiesTheMember) {
  auto member = Identify(kNext);
  ASSERT_THAT(member, IsOk());
  EXPECT_EQ(member->agency_id(), "legal-aid");
  EXPECT_EQ(member->sector(), haven::v1::LEGAL_SERVICES);
}

TEST_F(PeerIdentityTest, UnlistedCertificateIsRefused) {
  EXPECT_THAT(Identify("another certificate issued to legal-aid"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("not the one the federation manifest lists")));
}

class PeerIdentityWithoutNextTest : public PeerIdentityTest {
 protected:
  PeerIdentityWithoutNextTest() { with_next_ = false; }
};

// Outside a rotation window, a next certificate is just unlisted, and an
// empty next_cert_sha256 matches nothing.
TEST_F(PeerIdentityWithoutNextTest, NextCertificateIsRefused) {
  EXPECT_THAT(Identify(kCurrent), IsOk());
  EXPECT_THAT(Identify(kNext), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(IsListedCertificateTest, EmptyFingerprintIsNeverListed) {
  haven::v1::Member member;
  member.set_cert_sha256(std::string(64, 'a'));
  EXPECT_FALSE(IsListedCertificate(member, ""));
  EXPECT_TRUE(IsListedCertificate(member, std::string(64, 'a')));
  EXPECT_FALSE(IsListedCertificate(member, std::string(64, 'b')));
  member.set_next_cert_sha256(std::string(64, 'b'));
  EXPECT_TRUE(IsListedCertificate(member, std::string(64, 'b')));
}

}  // namespace
}  // namespace haven::server::federation
