// How havenctl prints consents, receipts and refusals for the advocate:
// blocks for one consent or refusal, tables for a history and a list.
// Pure output to stdout; thread-compatible.
#ifndef HAVEN_CLIENT_CLI_CONSENT_TEXT_H_
#define HAVEN_CLIENT_CLI_CONSENT_TEXT_H_

#include "haven/v1/consent.pb.h"

namespace haven::client::cli {

void PrintReceipt(const haven::v1::ConsentReceipt& receipt);
void PrintRefusal(const haven::v1::Refusal& refusal);
// Every version of one consent, oldest first.
void PrintConsentHistory(const haven::v1::GetConsentResponse& response);
// A subject's consents, then its refusals.
void PrintConsentList(const haven::v1::ListConsentsResponse& response);

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_CONSENT_TEXT_H_
