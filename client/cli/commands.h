// The command groups havenctl is made of; each lives in its own file.
#ifndef HAVEN_CLIENT_CLI_COMMANDS_H_
#define HAVEN_CLIENT_CLI_COMMANDS_H_

#include <vector>

#include "client/cli/command.h"

namespace haven::client::cli {

std::vector<Command> HealthCommands();
std::vector<Command> WitnessCommands();
std::vector<Command> RecordsCommands();
std::vector<Command> AdminCommands();
// admin user …: people's accounts.
std::vector<Command> UserCommands();
// account …: a person's own enrolment and sign-in.
std::vector<Command> AccountCommands();
std::vector<Command> AuditCommands();
// Parts of AuditCommands() kept in their own files, listed there in help
// order: audit proof and consistency, audit verify, audit export.
std::vector<Command> AuditProofCommands();
std::vector<Command> AuditVerifyCommands();
std::vector<Command> AuditExportCommands();
std::vector<Command> ReportCommands();
std::vector<Command> BundleCommands();
std::vector<Command> ConsentCommands();
std::vector<Command> ReceiptCommands();
std::vector<Command> ExchangeCommands();
std::vector<Command> PolicyCommands();
std::vector<Command> FederationCommands();

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_COMMANDS_H_
