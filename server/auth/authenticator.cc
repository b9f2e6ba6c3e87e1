#include "server/auth/authenticator.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/crypto/digest.h"

namespace haven::server::auth {

Authenticator::Authenticator(const google::protobuf::RepeatedPtrField<
                                 haven::v1::LocalPrincipal>& principals,
                             SessionTable* sessions)
    : sessions_(sessions) {
  for (const auto& p : principals) {
    entries_.push_back(
        {p.name(), p.role(), absl::HexStringToBytes(p.token_sha256())});
  }
}

absl::StatusOr<Principal> Authenticator::Authenticate(
    const grpc::ServerContextBase& context) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError(
        "missing credentials: send 'authorization: Bearer <token>'");
  }
  absl::string_view value(it->second.data(), it->second.size());
  constexpr absl::string_view kBearer = "Bearer ";
  if (!absl::StartsWith(value, kBearer) || value.size() == kBearer.size()) {
    return absl::UnauthenticatedError(
        "malformed credentials: expected 'Bearer <token>'");
  }
  std::string digest = crypto::Sha256(value.substr(kBearer.size()));
  // Compare against every entry so timing does not reveal which matched.
  const Entry* match = nullptr;
  for (const Entry& entry : entries_) {
    if (crypto::ConstantTimeEquals(digest, entry.token_sha256)) match = &entry;
  }
  if (match != nullptr) {
    Principal machine;
    machine.name = match->name;
    machine.role = match->role;
    return machine;
  }
  if (sessions_ != nullptr) {
    if (std::optional<SessionTable::Session> session =
            sessions_->Touch(digest)) {
      Principal person;
      person.name = session->name;
      person.role = session->role;
      person.session_sha256 = digest;
      person.idle_expires_unix = session->idle_expires_unix;
      person.absolute_expires_unix = session->absolute_expires_unix;
      return person;
    }
  }
  return absl::UnauthenticatedError(
      "unknown, expired or revoked token: sign in again");
}

absl::StatusOr<Principal> Authenticator::Require(
    const grpc::ServerContextBase& context,
    std::initializer_list<haven::v1::Role> roles) const {
  absl::StatusOr<Principal> principal = Authenticate(context);
  if (!principal.ok()) return principal.status();
  for (haven::v1::Role role : roles) {
    if (principal->role == role) return principal;
  }
  std::vector<std::string> names;
  for (haven::v1::Role role : roles)
    names.push_back(haven::v1::Role_Name(role));
  return absl::PermissionDeniedError(
      absl::StrCat("principal '", principal->name, "' has role ",
                   haven::v1::Role_Name(principal->role), "; this call needs ",
                   absl::StrJoin(names, " or ")));
}

}  // namespace haven::server::auth
