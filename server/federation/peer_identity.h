// Who is calling on the peer API, decided from the verified TLS client
// certificate and the manifest — never from anything in a request body.
#ifndef HAVEN_SERVER_FEDERATION_PEER_IDENTITY_H_
#define HAVEN_SERVER_FEDERATION_PEER_IDENTITY_H_

#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/auth_context.h"
#include "haven/v1/federation.pb.h"
#include "server/federation/manifest.h"

namespace haven::server::federation {

// Hex SHA-256 of the DER form of a PEM certificate.
absl::StatusOr<std::string> CertificateFingerprint(const std::string& pem);

// Whether `fingerprint` (hex SHA-256 of a DER certificate) is one the
// manifest lists for `member`: its cert_sha256 or, during a rotation
// window, its next_cert_sha256. An empty fingerprint never is.
bool IsListedCertificate(const haven::v1::Member& member,
                         const std::string& fingerprint);

// The manifest member the caller is: the certificate's common name must be a
// member's agency id and its fingerprint one the manifest lists for that
// member (IsListedCertificate).
// UNAUTHENTICATED without a verified certificate; PERMISSION_DENIED when the
// certificate is not in the manifest or the member is suspended. Messages
// name the agency id the certificate claims, nothing else.
absl::StatusOr<haven::v1::Member> IdentifyPeer(const grpc::AuthContext& auth,
                                               const Manifest& manifest);

}  // namespace haven::server::federation

#endif  // HAVEN_SERVER_FEDERATION_PEER_IDENTITY_H_
