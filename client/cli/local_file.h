// Files on the operator's own machine that havenctl reads or writes (not
// the node's): bounded reads, and writes that never replace a file.
#ifndef HAVEN_CLIENT_CLI_LOCAL_FILE_H_
#define HAVEN_CLIENT_CLI_LOCAL_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace haven::client::cli {

// The whole file, refused (INVALID_ARGUMENT, naming `what` and the limit)
// past `max_bytes` before it is read; FAILED_PRECONDITION if unreadable.
absl::StatusOr<std::string> ReadLocalFile(const std::string& path,
                                          size_t max_bytes,
                                          absl::string_view what);

// Creates `path` with `mode` and writes `contents`, synced. Refuses
// (ALREADY_EXISTS) if the path exists, so that nothing is overwritten.
absl::Status WriteNewLocalFile(const std::string& path,
                               absl::string_view contents, int mode);

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_LOCAL_FILE_H_
