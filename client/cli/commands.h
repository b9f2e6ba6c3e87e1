// The command groups havenctl is made of; each lives in its own file.
#ifndef HAVEN_CLIENT_CLI_COMMANDS_H_
#define HAVEN_CLIENT_CLI_COMMANDS_H_

#include <vector>

#include "client/cli/command.h"

namespace haven::client::cli {

std::vector<Command> HealthCommands();

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_COMMANDS_H_
