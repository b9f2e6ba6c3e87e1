#include "client/cli/command.h"

#include <cstdio>
#include <string>

namespace haven::client::cli {

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    case absl::StatusCode::kDataLoss:
      return kExitVerifyFailed;
    default:
      return kExitFailed;
  }
}

int Report(const absl::Status& status) {
  std::fprintf(stderr, "havenctl: %s\n", std::string(status.message()).c_str());
  return ExitCodeFor(status);
}

}  // namespace haven::client::cli
