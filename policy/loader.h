// Loading and validating an agency's SharingPolicy.
//
// A policy is authored as protobuf text format or JSON and parsed by
// protobuf itself. Parse errors read "source:line:col: message"; validation
// errors name the rule, the field and (for text format) the line. Loading is
// a pure function of its input: thread-safe, no I/O.
#ifndef HAVEN_POLICY_LOADER_H_
#define HAVEN_POLICY_LOADER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "haven/v1/policy.pb.h"

namespace haven::policy {

enum class PolicyFormat { kTextProto, kJson };

// A policy that parsed and validated.
struct LoadedPolicy {
  haven::v1::SharingPolicy policy;
  // Hex SHA-256 of the deterministic serialization (see PolicyVersion).
  std::string version;
  // Problems that do not stop the policy from loading, one sentence each
  // ("source:line: rule 'x': permit is fully shadowed by deny rules ...").
  std::vector<std::string> warnings;
};

// Parses `content` as `format` and validates it. `source` names the input in
// messages (usually the file path). INVALID_ARGUMENT on any syntax or
// validation error; the message lists every error found, one per line.
absl::StatusOr<LoadedPolicy> LoadPolicy(absl::string_view content,
                                        PolicyFormat format,
                                        absl::string_view source);

// Guesses the format from a file name: ".json" is JSON, anything else text.
PolicyFormat FormatForPath(absl::string_view path);

// Reads and loads a file (the one helper here that touches the file system,
// for `havenctl policy check`). NOT_FOUND if the file cannot be read.
absl::StatusOr<LoadedPolicy> LoadPolicyFile(const std::string& path);

// Validates an already-parsed policy (for policies received over gRPC).
// Returns the warnings, or INVALID_ARGUMENT listing the errors.
absl::StatusOr<std::vector<std::string>> ValidatePolicy(
    const haven::v1::SharingPolicy& policy, absl::string_view source);

// Hex SHA-256 of the deterministic serialization of `policy`.
std::string PolicyVersion(const haven::v1::SharingPolicy& policy);

}  // namespace haven::policy

#endif  // HAVEN_POLICY_LOADER_H_
