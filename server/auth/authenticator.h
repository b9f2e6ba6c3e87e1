// Authenticates local API callers by bearer token and checks their role.
//
// Two kinds of token are accepted: configured ones (machines; the config
// holds their SHA-256, compared in constant time) and personal session
// tokens (people; the SessionTable holds their SHA-256, and each call
// moves the session's idle expiry on). Tokens themselves are never
// stored. A caller sends "authorization: Bearer <token>" metadata.
// Thread-safe: immutable after construction; the session table is
// thread-safe.
#ifndef HAVEN_SERVER_AUTH_AUTHENTICATOR_H_
#define HAVEN_SERVER_AUTH_AUTHENTICATOR_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "haven/v1/common.pb.h"
#include "haven/v1/config.pb.h"
#include "server/auth/session_table.h"

namespace haven::server::auth {

// Who is calling: recorded in audit entries.
// For a person's session, `name` is the account name, so every audit entry
// written through the session names the person.
struct Principal {
  std::string name;
  haven::v1::Role role = haven::v1::ROLE_UNSPECIFIED;
  // Personal sessions only (empty for a configured token): the SHA-256 of
  // the session token (what SignOut ends) and the session's expiry.
  std::string session_sha256;
  int64_t idle_expires_unix = 0;
  int64_t absolute_expires_unix = 0;
};

class Authenticator {
 public:
  // `sessions` (borrowed, may be null: configured tokens only) must
  // outlive the authenticator.
  explicit Authenticator(const google::protobuf::RepeatedPtrField<
                             haven::v1::LocalPrincipal>& principals,
                         SessionTable* sessions = nullptr);

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
  SessionTable* const sessions_;
};

}  // namespace haven::server::auth

#endif  // HAVEN_SERVER_AUTH_AUTHENTICATOR_H_
