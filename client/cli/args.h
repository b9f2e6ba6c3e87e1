// Command-line parsing for havenctl: positional words plus --flags, which
// may appear anywhere ("havenctl --node X audit tail --json").
#ifndef HAVEN_CLIENT_CLI_ARGS_H_
#define HAVEN_CLIENT_CLI_ARGS_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace haven::client::cli {

class Args {
 public:
  // `boolean_flags` take no value; every other --flag takes one
  // ("--flag value" or "--flag=value"). INVALID_ARGUMENT when a value is
  // missing.
  static absl::StatusOr<Args> Parse(int argc, const char* const* argv,
                                    const std::set<std::string>& boolean_flags);

  const std::vector<std::string>& positional() const { return positional_; }
  bool Has(const std::string& flag) const { return flags_.count(flag) > 0; }
  std::optional<std::string> Get(const std::string& flag) const;
  std::string GetOr(const std::string& flag, const std::string& fallback) const;
  // Every value of a flag given more than once, in order.
  std::vector<std::string> GetAll(const std::string& flag) const;
  // Flags given that are not in `known` (for a clear usage error).
  std::vector<std::string> Unknown(const std::set<std::string>& known) const;

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::string> flags_;  // last value of each flag
  std::vector<std::pair<std::string, std::string>> all_;
};

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_ARGS_H_
