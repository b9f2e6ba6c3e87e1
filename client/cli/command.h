// The shape of a havenctl command and the exit codes scripts rely on.
#ifndef HAVEN_CLIENT_CLI_COMMAND_H_
#define HAVEN_CLIENT_CLI_COMMAND_H_

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/cli/args.h"
#include "client/node_client.h"

namespace haven::client::cli {

// Exit codes. Stable: scripts depend on them.
enum ExitCode {
  kExitOk = 0,
  kExitFailed = 1,        // the node answered with an error
  kExitUsage = 2,         // bad command line or local file
  kExitUnavailable = 3,   // node unreachable, or not serving
  kExitVerifyFailed = 4,  // a proof, signature or log check failed
};

// Maps a status from a call to an exit code.
int ExitCodeFor(const absl::Status& status);

// What a command gets: parsed args and a way to reach the node.
struct Invocation {
  const Args& args;
  bool json = false;
  // Builds the node client on first use from --node, --ca, --token-file ...
  std::function<absl::StatusOr<const NodeClient*>()> client;
};

struct Command {
  std::string noun;
  std::string verb;  // empty for one-word commands such as "health"
  std::string summary;
  std::string usage;            // shown by --help: arguments and flags
  std::set<std::string> flags;  // flags this command accepts
  std::function<int(const Invocation&)> run;
};

// Prints "havenctl: <message>" to stderr and returns the exit code.
int Report(const absl::Status& status);

// A failed proof, signature or log check: prints "havenctl: verification
// failed: <what>: <message>" (no "<what>: " when empty) and returns
// kExitVerifyFailed whatever the status code.
int ReportVerifyFailure(absl::string_view what, const absl::Status& status);

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_COMMAND_H_
