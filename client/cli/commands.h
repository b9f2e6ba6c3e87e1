// The command groups havenctl is made of; each lives in its own file.
#ifndef HAVEN_CLIENT_CLI_COMMANDS_H_
#define HAVEN_CLIENT_CLI_COMMANDS_H_

#include <vector>

#include "client/cli/command.h"

namespace haven::client::cli {

std::vector<Command> HealthCommands();
std::vector<Command> RecordsCommands();
std::vector<Command> AdminCommands();
std::vector<Command> AuditCommands();

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_COMMANDS_H_
