// The subject access report in words: what one audit entry means, as a
// short action for staff ("consent revoked") and as one sentence for the
// survivor. Pure; thread-safe.
#ifndef HAVEN_CLIENT_CLI_REPORT_TEXT_H_
#define HAVEN_CLIENT_CLI_REPORT_TEXT_H_

#include <string>

#include "haven/v1/audit.pb.h"

namespace haven::client::cli {

// A disclosure, refused request or break-glass use: printed as a block.
bool IsDecision(const haven::v1::AuditEntry& e);

// What happened, in a few words, for the one-line form (local actions).
std::string Action(const haven::v1::AuditEntry& e);

// One sentence for the survivor. Names staff accounts and agencies as the
// log has them; says nothing the log does not.
std::string PlainSentence(const haven::v1::AuditEntry& e);

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_REPORT_TEXT_H_
