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

int ReportVerifyFailure(absl::string_view what, const absl::Status& status) {
  std::fprintf(stderr, "havenctl: verification failed: %s%s%s\n",
               std::string(what).c_str(), what.empty() ? "" : ": ",
               std::string(status.message()).c_str());
  return kExitVerifyFailed;
}

}  // namespace haven::client::cli
