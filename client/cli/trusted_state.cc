#include "client/cli/trusted_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace haven::client::cli {
namespace {

std::string StateFileName(absl::string_view origin) {
  std::string name = "audit-";
  for (char c : origin) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '-';
    name.push_back(plain ? c : '_');
  }
  return name + ".state";
}

}  // namespace

absl::StatusOr<std::string> DefaultStatePath(absl::string_view origin) {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    return absl::FailedPreconditionError(
        "HOME is not set: give the state file with --state FILE");
  }
  return absl::StrCat(home, "/.haven/", StateFileName(origin));
}

absl::StatusOr<std::optional<TrustedState>> ReadState(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) {
    return std::optional<TrustedState>();
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read state file ", path));
  }
  TrustedState state;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::pair<std::string, std::string> kv =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    if (kv.first == "origin") {
      state.origin = kv.second;
    } else if (kv.first == "verifier_key") {
      state.verifier_key = kv.second;
    } else if (kv.first == "checkpoint") {
      if (!absl::Base64Unescape(kv.second, &state.checkpoint_note)) {
        return absl::FailedPreconditionError(
            absl::StrCat("state file ", path, " holds a malformed checkpoint"));
      }
    }
  }
  if (state.origin.empty() || state.verifier_key.empty() ||
      state.checkpoint_note.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("state file ", path, " is incomplete"));
  }
  return std::optional<TrustedState>(std::move(state));
}

absl::Status WriteState(const std::string& path, const TrustedState& state,
                        uint64_t tree_size) {
  std::filesystem::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) {
    std::filesystem::create_directories(target.parent_path(), ec);
    if (ec) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot create ", target.parent_path().string(), ": ", ec.message()));
    }
  }
  std::string text = absl::StrCat(
      "# havenctl audit verify: the last checkpoint verified for this log\n",
      "origin ", state.origin, "\n", "verifier_key ", state.verifier_key, "\n",
      "tree_size ", tree_size, "\n", "checkpoint ",
      absl::Base64Escape(state.checkpoint_note), "\n");
  std::string temp = absl::StrCat(path, ".tmp.", getpid());
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", temp, ": ", std::strerror(errno)));
  }
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  bool ok = written == text.size() && fchmod(fd, 0600) == 0 && fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(temp.c_str(), path.c_str()) != 0) {
    std::string reason = std::strerror(errno);
    unlink(temp.c_str());
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write state file ", path, ": ", reason));
  }
  std::string dir =
      target.has_parent_path() ? target.parent_path().string() : ".";
  int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)fsync(dir_fd);
    close(dir_fd);
  }
  return absl::OkStatus();
}

}  // namespace haven::client::cli
