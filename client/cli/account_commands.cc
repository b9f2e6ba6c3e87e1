// havenctl account …: a person's own enrolment and sign-in from a
// terminal (no token needed). Secrets are read from the terminal with
// echo off (or from standard input when it is not a terminal), never from
// the command line, where other users could see them in the process list.
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "client/cli/commands.h"
#include "client/cli/decision_output.h"
#include "client/cli/node_call.h"

namespace haven::client::cli {
namespace {

namespace v1 = ::haven::v1;

// One line from standard input after `prompt` (on stderr), without echo
// when standard input is a terminal.
std::string ReadSecretLine(const char* prompt) {
  std::fprintf(stderr, "%s", prompt);
  std::fflush(stderr);
  termios saved{};
  const bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (tty) {
    termios quiet = saved;
    quiet.c_lflag &= ~ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::fprintf(stderr, "\n");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// The QR code as text: two characters per module, a quiet zone of four;
// light modules as full blocks, dark ones as blanks, which reads right on
// the usual light-on-dark terminal.
void PrintQr(const v1::TotpEnrolment& totp) {
  const int size = static_cast<int>(totp.qr_size());
  if (size <= 0 ||
      totp.qr_modules().size() != static_cast<size_t>(size) * size) {
    return;
  }
  constexpr int kQuiet = 4;
  for (int y = -kQuiet; y < size + kQuiet; ++y) {
    std::string row;
    for (int x = -kQuiet; x < size + kQuiet; ++x) {
      const bool dark = y >= 0 && y < size && x >= 0 && x < size &&
                        totp.qr_modules()[y * size + x] != 0;
      row += dark ? "  " : "\u2588\u2588";
    }
    std::printf("%s\n", row.c_str());
  }
}

std::string NameArg(const Invocation& in) {
  const auto& words = in.args.positional();
  return words.size() > 2 ? words[2] : "";
}

int Enrol(const Invocation& in) {
  const std::string name = NameArg(in);
  if (name.empty()) return UsageError("NAME is required");
  v1::BeginEnrolmentRequest begin;
  begin.set_name(name);
  begin.set_enrolment_code(ReadSecretLine("Enrolment code: "));
  begin.set_new_password(ReadSecretLine("New password (12 or more bytes): "));
  if (ReadSecretLine("Same password again: ") != begin.new_password()) {
    return UsageError("the two passwords differ");
  }
  auto begun = CallNode(in, &NodeClient::BeginEnrolment, begin);
  if (!begun.ok()) return Report(begun.status());
  std::printf(
      "Scan this with your authenticator app (or enter the URI below). It\n"
      "holds your secret: let nobody photograph it.\n\n");
  PrintQr(begun->totp());
  std::printf("\n%s\n\n", begun->totp().otpauth_uri().c_str());
  std::fflush(stdout);
  v1::ConfirmEnrolmentRequest confirm;
  confirm.set_name(name);
  confirm.set_enrolment_code(begin.enrolment_code());
  confirm.set_totp_code(ReadSecretLine("Code shown by the app: "));
  return CallAndPrint(in, &NodeClient::ConfirmEnrolment, confirm,
                      [](const v1::ConfirmEnrolmentResponse& response) {
                        std::printf(
                            "Enrolled: %s can sign in now (havenctl account "
                            "sign-in %s).\n",
                            response.account().name().c_str(),
                            response.account().name().c_str());
                      });
}

int SignIn(const Invocation& in) {
  v1::SignInRequest request;
  request.set_name(NameArg(in));
  if (request.name().empty()) return UsageError("NAME is required");
  request.set_password(ReadSecretLine("Password: "));
  request.set_totp_code(ReadSecretLine("Code shown by the app: "));
  return CallAndPrint(
      in, &NodeClient::SignIn, request, [](const v1::SignInResponse& response) {
        std::fprintf(stderr,
                     "Signed in as %s (%s). The session ends after %s idle "
                     "and at %s at the latest.\nSave the token below to a "
                     "file only you can read and pass it with --token-file.\n",
                     response.name().c_str(),
                     v1::Role_Name(response.role()).c_str(),
                     FormatUnix(response.idle_expires_unix()).c_str(),
                     FormatUnix(response.absolute_expires_unix()).c_str());
        std::printf("%s\n", response.session_token().c_str());
      });
}

}  // namespace

std::vector<Command> AccountCommands() {
  return {
      {"account",
       "enrol",
       "finish enrolment with the code an admin gave you",
       "havenctl account enrol NAME\n"
       "  Asks for the enrolment code and a new password (12 to 256 bytes),\n"
       "  shows a QR code for your authenticator app, then asks for the code\n"
       "  the app shows. Needs no token.",
       {},
       Enrol},
      {"account",
       "sign-in",
       "sign in as yourself and print a session token",
       "havenctl account sign-in NAME\n"
       "  Asks for your password and the code your authenticator app shows;\n"
       "  prints the session token on standard output (save it to a file\n"
       "  only you can read, and use --token-file). The session ends when\n"
       "  idle for the node's session_idle_seconds (default 15 min), at its\n"
       "  session_max_seconds (default 8 h), or when the node restarts.\n"
       "  Five wrong attempts in a row make the account wait; twenty lock it.",
       {},
       SignIn},
  };
}

}  // namespace haven::client::cli
