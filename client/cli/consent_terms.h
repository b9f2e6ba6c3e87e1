// The terms of a consent as havenctl reads them from the command line
// (--subject, --grantee-*, --purpose, --category, --from/--until, limits,
// --evidence-sha256), shared by `consent record` and `consent amend`.
// Pure; thread-safe.
#ifndef HAVEN_CLIENT_CLI_CONSENT_TERMS_H_
#define HAVEN_CLIENT_CLI_CONSENT_TERMS_H_

#include <cstdint>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "client/cli/args.h"
#include "haven/v1/consent.pb.h"

namespace haven::client::cli {

inline constexpr int64_t kSecondsPerDay = 24 * 60 * 60;

// The --help text and the flags of the terms.
extern const char kTermsUsage[];
extern const std::set<std::string> kTermFlags;

// 64 hex digits (--evidence-sha256) to 32 bytes; INVALID_ARGUMENT if not.
absl::Status ParseSha256(const std::string& hex, std::string* bytes);

// Fills `consent` from the terms flags. `need_subject` is false for an
// amendment (the subject stays the consent's own). INVALID_ARGUMENT, with
// a message for UsageError, when a flag is missing or malformed.
absl::Status ParseTerms(const Args& args, bool need_subject,
                        haven::v1::Consent* consent);

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_CONSENT_TERMS_H_
