// havenctl admin user …: people's accounts on the node (admin role), and
// havenctl account …: a person's own enrolment and sign-in.
#include <cstdio>
#include <string>

#include "absl/strings/ascii.h"
#include "client/cli/commands.h"
#include "client/cli/decision_output.h"
#include "client/cli/node_call.h"

namespace haven::client::cli {
namespace {

namespace v1 = ::haven::v1;

std::string StatusWord(v1::AccountStatus status) {
  switch (status) {
    case v1::ACCOUNT_STATUS_ENROLLING:
      return "enrolling";
    case v1::ACCOUNT_STATUS_ACTIVE:
      return "active";
    case v1::ACCOUNT_STATUS_DISABLED:
      return "disabled";
    case v1::ACCOUNT_STATUS_LOCKED:
      return "locked";
    default:
      return "unknown";
  }
}

void PrintAccount(const v1::Account& account) {
  std::printf("%-24s %-10s %-9s last sign-in %s", account.name().c_str(),
              v1::Role_Name(account.role()).c_str(),
              StatusWord(account.status()).c_str(),
              account.last_sign_in_unix() > 0
                  ? FormatUnix(account.last_sign_in_unix()).c_str()
                  : "never");
  if (account.failed_sign_ins() > 0) {
    std::printf(", %u failed sign-ins", account.failed_sign_ins());
  }
  std::printf("\n");
}

template <typename Response>
void PrintEnrolment(const Response& response, const char* what) {
  std::printf(
      "%s %s (%s).\n"
      "Enrolment code: %s\n"
      "Valid until %s. Hand it to the person yourself (not by e-mail or\n"
      "chat): with it they choose a password and set up their\n"
      "authenticator app.\n",
      what, response.account().name().c_str(),
      v1::Role_Name(response.account().role()).c_str(),
      response.enrolment_code().c_str(),
      FormatUnix(response.enrolment_expires_unix()).c_str());
}

// The NAME after "admin user <verb>".
std::string NameArg(const Invocation& in) {
  const auto& words = in.args.positional();
  return words.size() > 3 ? words[3] : "";
}

int UserAdd(const Invocation& in) {
  v1::AddUserRequest request;
  request.set_name(NameArg(in));
  if (request.name().empty()) return UsageError("NAME is required");
  v1::Role role;
  if (!v1::Role_Parse(absl::AsciiStrToUpper(in.args.GetOr("role", "")),
                      &role)) {
    return UsageError("--role must be caseworker, advocate, auditor or admin");
  }
  request.set_role(role);
  return CallAndPrint(in, &NodeClient::AddUser, request,
                      [](const v1::AddUserResponse& response) {
                        PrintEnrolment(response, "Added");
                      });
}

int UserReset(const Invocation& in) {
  v1::ResetUserRequest request;
  request.set_name(NameArg(in));
  if (request.name().empty()) return UsageError("NAME is required");
  if (int rc = RequireFlags(in.args, {"reason"})) return rc;
  request.set_reason(in.args.GetOr("reason", ""));
  return CallAndPrint(in, &NodeClient::ResetUser, request,
                      [](const v1::ResetUserResponse& response) {
                        PrintEnrolment(response, "Reset");
                      });
}

int UserDisable(const Invocation& in) {
  v1::DisableUserRequest request;
  request.set_name(NameArg(in));
  if (request.name().empty()) return UsageError("NAME is required");
  if (int rc = RequireFlags(in.args, {"reason"})) return rc;
  request.set_reason(in.args.GetOr("reason", ""));
  return CallAndPrint(in, &NodeClient::DisableUser, request,
                      [](const v1::DisableUserResponse& response) {
                        std::printf(
                            "Disabled %s: sign-in refused, sessions ended.\n",
                            response.account().name().c_str());
                      });
}

int UserList(const Invocation& in) {
  return CallAndPrint(in, &NodeClient::ListUsers, v1::ListUsersRequest(),
                      [](const v1::ListUsersResponse& response) {
                        if (response.accounts().empty()) {
                          std::printf("no accounts\n");
                        }
                        for (const auto& account : response.accounts()) {
                          PrintAccount(account);
                        }
                      });
}

int User(const Invocation& in) {
  const auto& words = in.args.positional();
  const std::string verb = words.size() > 2 ? words[2] : "";
  if (verb == "add") return UserAdd(in);
  if (verb == "disable") return UserDisable(in);
  if (verb == "reset") return UserReset(in);
  if (verb == "list") return UserList(in);
  return UsageError(
      "havenctl admin user add|disable|reset|list (see havenctl admin user "
      "--help)");
}

}  // namespace

std::vector<Command> UserCommands() {
  return {
      {"admin",
       "user",
       "add, disable, reset or list people's accounts",
       "havenctl admin user add NAME --role ROLE\n"
       "havenctl admin user disable NAME --reason TEXT\n"
       "havenctl admin user reset NAME --reason TEXT\n"
       "havenctl admin user list\n"
       "  NAME: 1 to 64 of a-z 0-9 . _ - (not a configured principal's\n"
       "  name). ROLE: caseworker, advocate, auditor or admin.\n"
       "  add and reset print a one-time enrolment code, valid for 72 hours:\n"
       "  hand it to the person in person. With it they choose a password\n"
       "  and set up an authenticator app (TOTP), then sign in as themselves;\n"
       "  the audit log names them for everything they do. reset also brings\n"
       "  back a disabled or locked account; disable and reset end the\n"
       "  person's sessions at once. Every change is logged under your name.",
       {"role", "reason"},
       User},
  };
}

}  // namespace haven::client::cli
