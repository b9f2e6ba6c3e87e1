#include "server/crypto/master_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/crypto/aead.h"
#include "server/crypto/sodium.h"

namespace haven::server::crypto {
namespace {

constexpr size_t kHexSize = 2 * kMasterKeySize;
// Largest file we bother reading: hex, "\r\n", and room to detect more.
constexpr size_t kMaxFileSize = kHexSize + 8;

// Closes a file descriptor on scope exit.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

std::string ErrnoText(int err) { return std::strerror(err); }

}  // namespace

absl::StatusOr<SecretBytes> ParseMasterKeyHex(absl::string_view text) {
  EnsureSodiumInitialized();
  if (text.size() >= 2 && text.substr(text.size() - 2) == "\r\n") {
    text.remove_suffix(2);
  } else if (!text.empty() && text.back() == '\n') {
    text.remove_suffix(1);
  }
  if (text.size() != kHexSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "master key must be ", kHexSize, " hex characters (", kMasterKeySize,
        " bytes), optionally followed by a newline"));
  }
  SecretBytes key(kMasterKeySize);
  size_t decoded = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(key.mutable_data(), key.size(), text.data(), text.size(),
                     nullptr, &decoded, &end) != 0 ||
      decoded != kMasterKeySize || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(
        "master key contains characters that are not hex digits");
  }
  return key;
}

std::string MasterKeyToHex(const SecretBytes& key) {
  EnsureSodiumInitialized();
  std::string hex(2 * key.size() + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), key.data(), key.size());
  hex.resize(2 * key.size());
  return hex;
}

namespace {

// Who may own the key file and how open its mode may be.
enum class KeyFileRule {
  // A file the admin keeps: owned by the node's user, mode 0600 or 0400.
  kOwnerOnly,
  // A systemd credential: systemd places it in a directory only the unit's
  // user (and root) can enter, owned by that user or by root with an ACL
  // (which shows in the group bits), so only "others" bits are refused.
  kSystemdCredential,
};

absl::StatusOr<SecretBytes> LoadKeyFile(const std::string& path,
                                        KeyFileRule rule) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP) {
      return absl::FailedPreconditionError(absl::StrCat(
          "master key file ", path,
          " is a symbolic link; point the node at the key file itself"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open master key file ", path, ": ", ErrnoText(err),
                     err == ENOENT ? " (create one with havend --init)" : ""));
  }
  FdCloser closer(fd);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot stat master key file ", path, ": ", ErrnoText(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("master key file ", path, " is not a regular file"));
  }
  if (rule == KeyFileRule::kOwnerOnly && st.st_uid != geteuid()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "master key file %s is owned by uid %d, not by the user running the "
        "node (uid %d); run chown",
        path, static_cast<int>(st.st_uid), static_cast<int>(geteuid())));
  }
  if ((st.st_mode & (rule == KeyFileRule::kOwnerOnly ? 077 : 007)) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "master key file %s is readable by group or others (mode %04o); run "
        "chmod 600 %s",
        path, static_cast<unsigned>(st.st_mode & 07777), path));
  }
  // Read into guarded memory so the hex form never sits on the heap.
  SecretBytes buffer(kMaxFileSize);
  size_t total = 0;
  while (total < buffer.size()) {
    ssize_t n = read(fd, buffer.mutable_data() + total, buffer.size() - total);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot read master key file ", path, ": ", ErrnoText(errno)));
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
  }
  absl::StatusOr<SecretBytes> key = ParseMasterKeyHex(
      absl::string_view(reinterpret_cast<const char*>(buffer.data()), total));
  if (!key.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "master key file ", path, " is malformed: ", key.status().message()));
  }
  return key;
}

}  // namespace

absl::StatusOr<SecretBytes> LoadMasterKeyFile(const std::string& path) {
  return LoadKeyFile(path, KeyFileRule::kOwnerOnly);
}

absl::StatusOr<SecretBytes> LoadNodeMasterKey(
    const std::string& master_key_file, const char* credentials_directory) {
  if (!master_key_file.empty()) return LoadMasterKeyFile(master_key_file);
  if (credentials_directory == nullptr || *credentials_directory == '\0') {
    return absl::FailedPreconditionError(absl::StrCat(
        "no master key: set master_key_file in the config, or start havend "
        "under systemd with LoadCredential=",
        kMasterKeyCredential, ":<file> (or LoadCredentialEncrypted=)"));
  }
  const std::string path =
      absl::StrCat(credentials_directory, "/", kMasterKeyCredential);
  absl::StatusOr<SecretBytes> key =
      LoadKeyFile(path, KeyFileRule::kSystemdCredential);
  if (!key.ok()) {
    return absl::Status(key.status().code(),
                        absl::StrCat("systemd credential ", kMasterKeyCredential,
                                     ": ", key.status().message()));
  }
  return key;
}

absl::StatusOr<SecretBytes> CreateMasterKeyFile(const std::string& path) {
  SecretBytes key = SecretBytes::Random(kMasterKeySize);
  int fd = open(path.c_str(),
                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    if (err == EEXIST) {
      return absl::AlreadyExistsError(absl::StrCat(
          "master key file ", path, " already exists; refusing to overwrite"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create master key file ", path, ": ", ErrnoText(err)));
  }
  FdCloser closer(fd);
  auto fail = [&path](const char* what) {
    int err = errno;
    unlink(path.c_str());
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot ", what, " master key file ", path, ": ", ErrnoText(err)));
  };
  // The umask may have cleared bits we want, never set ones we refuse; make
  // the mode exact anyway.
  if (fchmod(fd, 0600) != 0) return fail("chmod");
  std::string hex = MasterKeyToHex(key);
  hex.push_back('\n');
  size_t written = 0;
  while (written < hex.size()) {
    ssize_t n = write(fd, hex.data() + written, hex.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      WipeString(hex);
      return fail("write");
    }
    written += static_cast<size_t>(n);
  }
  WipeString(hex);
  if (fsync(fd) != 0) return fail("sync");
  // Make the new directory entry durable too.
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = std::filesystem::path(".");
  int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    fsync(dir_fd);
    close(dir_fd);
  }
  return key;
}

absl::StatusOr<SecretBytes> MasterKeyFromEnv(const std::string& var) {
  const char* value = std::getenv(var.c_str());
  if (value == nullptr || *value == '\0') {
    return absl::FailedPreconditionError(
        absl::StrCat("environment variable ", var, " holds no master key"));
  }
  absl::StatusOr<SecretBytes> key = ParseMasterKeyHex(value);
  if (!key.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("environment variable ", var,
                     " is malformed: ", key.status().message()));
  }
  return key;
}

}  // namespace haven::server::crypto
