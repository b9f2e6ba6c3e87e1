// Authenticates local API callers by bearer token and checks their role.
//
// Tokens are never stored: the node keeps only their SHA-256 (from the
// config) and compares digests in constant time. A caller sends
// "authorization: Bearer <token>" metadata. Thread-safe: immutable after
// construction.
#ifndef HAVEN_SERVER_AUTH_AUTHENTICATOR_H_
#define HAVEN_SERVER_AUTH_AUTHENTICATOR_H_

#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "haven/v1/common.pb.h"
#include "haven/v1/config.pb.h"

namespace haven::server::auth {

// Who is calling: recorded in audit entries.
struct Principal {
  std::string name;
  haven::v1::Role role = haven::v1::ROLE_UNSPECIFIED;
};

class Authenticator {
 public:
  explicit Authenticator(
      const google::protobuf::RepeatedPtrField<haven::v1::LocalPrincipal>&
          principals);

  // UNAUTHENTICATED when the token is missing, malformed or unknown; the
  // message never echoes the token.
  absl::StatusOr<Principal> Authenticate(
      const grpc::ServerContextBase& context) const;

  // Authenticates, then PERMISSION_DENIED unless the role is one of `roles`.
  absl::StatusOr<Principal> Require(
      const grpc::ServerContextBase& context,
      std::initializer_list<haven::v1::Role> roles) const;

 private:
  struct Entry {
    std::string name;
    haven::v1::Role role;
    std::string token_sha256;  // raw 32 bytes
  };
  std::vector<Entry> entries_;
};

}  // namespace haven::server::auth

#endif  // HAVEN_SERVER_AUTH_AUTHENTICATOR_H_
