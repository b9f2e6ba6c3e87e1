#include "client/cli/local_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace haven::client::cli {

absl::StatusOr<std::string> ReadLocalFile(const std::string& path,
                                          size_t max_bytes,
                                          absl::string_view what) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read ", path));
  }
  file.seekg(0, std::ios::end);
  const std::streamoff size = file.tellg();
  if (size < 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read ", path));
  }
  if (static_cast<uint64_t>(size) > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is ", size, " bytes; ", what, " is at most ", max_bytes));
  }
  file.seekg(0, std::ios::beg);
  std::string text(static_cast<size_t>(size), '\0');
  if (!file.read(text.data(), size)) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read ", path));
  }
  return text;
}

absl::Status WriteNewLocalFile(const std::string& path,
                               absl::string_view contents, int mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrCat(path, " exists; nothing was overwritten"));
    }
    return absl::FailedPreconditionError(absl::StrCat("cannot create ", path));
  }
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n =
        ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const bool ok = written == contents.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return absl::FailedPreconditionError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

}  // namespace haven::client::cli
