// AuthService: personal accounts and sessions (auth.proto), adapted to
// auth::Accounts, which owns validation, storage and the audit entries.
// SignIn, BeginEnrolment and ConfirmEnrolment take no token; the rest
// check roles as every other RPC does.
#ifndef HAVEN_SERVER_SERVICES_AUTH_SERVICE_H_
#define HAVEN_SERVER_SERVICES_AUTH_SERVICE_H_

#include "haven/v1/auth.grpc.pb.h"
#include "server/auth/accounts.h"
#include "server/services/rpc_env.h"
#include "server/services/rpc_macros.h"

namespace haven::server::services {

class AuthServiceImpl final : public haven::v1::AuthService::CallbackService {
 public:
  // Both borrowed; they outlive the service.
  AuthServiceImpl(const RpcEnv& env, auth::Accounts* accounts)
      : env_(env), accounts_(accounts) {}

  HAVEN_OPEN_UNARY_RPC(SignIn, SignInRequest, SignInResponse);
  HAVEN_OPEN_UNARY_RPC(BeginEnrolment, BeginEnrolmentRequest,
                       BeginEnrolmentResponse);
  HAVEN_OPEN_UNARY_RPC(ConfirmEnrolment, ConfirmEnrolmentRequest,
                       ConfirmEnrolmentResponse);
  HAVEN_UNARY_RPC(SignOut, SignOutRequest, SignOutResponse,
                  haven::v1::CASEWORKER, haven::v1::ADVOCATE,
                  haven::v1::AUDITOR, haven::v1::ADMIN);
  HAVEN_UNARY_RPC(WhoAmI, WhoAmIRequest, WhoAmIResponse, haven::v1::CASEWORKER,
                  haven::v1::ADVOCATE, haven::v1::AUDITOR, haven::v1::ADMIN);
  HAVEN_UNARY_RPC(AddUser, AddUserRequest, AddUserResponse, haven::v1::ADMIN);
  HAVEN_UNARY_RPC(DisableUser, DisableUserRequest, DisableUserResponse,
                  haven::v1::ADMIN);
  HAVEN_UNARY_RPC(ListUsers, ListUsersRequest, ListUsersResponse,
                  haven::v1::ADMIN);
  HAVEN_UNARY_RPC(ResetUser, ResetUserRequest, ResetUserResponse,
                  haven::v1::ADMIN);

 private:
  const RpcEnv& env_;
  auth::Accounts* const accounts_;
};

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_AUTH_SERVICE_H_
