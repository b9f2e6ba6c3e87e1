#include "server/services/auth_service.h"

#include "haven/base/status_macros.h"

namespace haven::server::services {

absl::Status AuthServiceImpl::DoSignIn(const auth::Principal&,
                                       const haven::v1::SignInRequest& request,
                                       haven::v1::SignInResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(*response,
                         accounts_->SignIn(request.name(), request.password(),
                                           request.totp_code()));
  return absl::OkStatus();
}

absl::Status AuthServiceImpl::DoBeginEnrolment(
    const auth::Principal&, const haven::v1::BeginEnrolmentRequest& request,
    haven::v1::BeginEnrolmentResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      *response->mutable_totp(),
      accounts_->BeginEnrolment(request.name(), request.enrolment_code(),
                                request.new_password()));
  return absl::OkStatus();
}

absl::Status AuthServiceImpl::DoConfirmEnrolment(
    const auth::Principal&, const haven::v1::ConfirmEnrolmentRequest& request,
    haven::v1::ConfirmEnrolmentResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      *response->mutable_account(),
      accounts_->ConfirmEnrolment(request.name(), request.enrolment_code(),
                                  request.totp_code()));
  return absl::OkStatus();
}

absl::Status AuthServiceImpl::DoSignOut(const auth::Principal& who,
                                        const haven::v1::SignOutRequest&,
                                        haven::v1::SignOutResponse*) {
  return accounts_->SignOut(who);
}

absl::Status AuthServiceImpl::DoWhoAmI(const auth::Principal& who,
                                       const haven::v1::WhoAmIRequest&,
                                       haven::v1::WhoAmIResponse* response) {
  response->set_name(who.name);
  response->set_role(who.role);
  response->set_personal(!who.session_sha256.empty());
  response->set_idle_expires_unix(who.idle_expires_unix);
  response->set_absolute_expires_unix(who.absolute_expires_unix);
  return absl::OkStatus();
}

namespace {

template <typename Response>
void FillEnrolment(const auth::Accounts::Enrolment& enrolment,
                   Response* response) {
  *response->mutable_account() = enrolment.account;
  response->set_enrolment_code(enrolment.code);
  response->set_enrolment_expires_unix(enrolment.expires_unix);
}

}  // namespace

absl::Status AuthServiceImpl::DoAddUser(
    const auth::Principal& who, const haven::v1::AddUserRequest& request,
    haven::v1::AddUserResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      auth::Accounts::Enrolment enrolment,
      accounts_->Add(who.name, request.name(), request.role()));
  FillEnrolment(enrolment, response);
  return absl::OkStatus();
}

absl::Status AuthServiceImpl::DoDisableUser(
    const auth::Principal& who, const haven::v1::DisableUserRequest& request,
    haven::v1::DisableUserResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      *response->mutable_account(),
      accounts_->Disable(who.name, request.name(), request.reason()));
  return absl::OkStatus();
}

absl::Status AuthServiceImpl::DoListUsers(
    const auth::Principal&, const haven::v1::ListUsersRequest&,
    haven::v1::ListUsersResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(std::vector<haven::v1::Account> accounts,
                         accounts_->List());
  for (auto& account : accounts) *response->add_accounts() = std::move(account);
  return absl::OkStatus();
}

absl::Status AuthServiceImpl::DoResetUser(
    const auth::Principal& who, const haven::v1::ResetUserRequest& request,
    haven::v1::ResetUserResponse* response) {
  HAVEN_ASSIGN_OR_RETURN(
      auth::Accounts::Enrolment enrolment,
      accounts_->Reset(who.name, request.name(), request.reason()));
  FillEnrolment(enrolment, response);
  return absl::OkStatus();
}

}  // namespace haven::server::services
