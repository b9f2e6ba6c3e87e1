#include "server/federation/peer_identity.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/crypto/digest.h"

namespace haven::server::federation {

absl::StatusOr<std::string> CertificateFingerprint(const std::string& pem) {
  const std::string kBegin = "-----BEGIN CERTIFICATE-----";
  const std::string kEnd = "-----END CERTIFICATE-----";
  size_t begin = pem.find(kBegin);
  size_t end = pem.find(kEnd);
  if (begin == std::string::npos || end == std::string::npos || end < begin) {
    return absl::InvalidArgumentError("not a PEM certificate");
  }
  std::string body;
  for (size_t i = begin + kBegin.size(); i < end; ++i) {
    if (pem[i] != '\n' && pem[i] != '\r' && pem[i] != ' ') body += pem[i];
  }
  std::string der;
  if (!absl::Base64Unescape(body, &der)) {
    return absl::InvalidArgumentError("PEM certificate is not valid base64");
  }
  return crypto::Sha256Hex(der);
}

bool IsListedCertificate(const haven::v1::Member& member,
                         const std::string& fingerprint) {
  if (fingerprint.empty()) return false;
  return fingerprint == member.cert_sha256() ||
         fingerprint == member.next_cert_sha256();
}

absl::StatusOr<haven::v1::Member> IdentifyPeer(const grpc::AuthContext& auth,
                                               const Manifest& manifest) {
  auto pem = auth.FindPropertyValues("x509_pem_cert");
  auto common_name = auth.FindPropertyValues("x509_common_name");
  if (!auth.IsPeerAuthenticated() || pem.empty() || common_name.empty()) {
    return absl::UnauthenticatedError(
        "peer calls need a client certificate issued by the task-force CA");
  }
  std::string name(common_name.front().data(), common_name.front().size());
  auto fingerprint = CertificateFingerprint(
      std::string(pem.front().data(), pem.front().size()));
  if (!fingerprint.ok())
    return absl::UnauthenticatedError("unreadable client certificate");
  const haven::v1::Member* member = manifest.Find(name);
  if (member == nullptr || !IsListedCertificate(*member, *fingerprint)) {
    return absl::PermissionDeniedError(
        absl::StrCat("certificate for '", name,
                     "' is not the one the federation manifest lists"));
  }
  if (member->status() != haven::v1::MEMBER_ACTIVE) {
    return absl::PermissionDeniedError(
        absl::StrCat("member '", name, "' is suspended"));
  }
  return *member;
}

}  // namespace haven::server::federation
