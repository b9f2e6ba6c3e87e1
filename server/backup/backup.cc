#include "server/backup/backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "server/audit/rollback_guard.h"
#include "server/storage/rocksdb_storage.h"

namespace haven::server::backup {
namespace {

namespace fs = std::filesystem;

constexpr char kReadme[] =
    "This directory is a backup of a Haven node (see haven-backup-info for\n"
    "its agency and when it was taken).\n"
    "\n"
    "Everything personal in it is encrypted under keys derived from the\n"
    "node's master key, which is NOT in this directory: without that key\n"
    "the backup cannot be read or restored. With it, it is the node: keep\n"
    "the two apart, and destroy old backups on the schedule your agency set\n"
    "(records erased after a backup was taken are still in it).\n"
    "\n"
    "Restore into an empty data dir with\n"
    "  havend --config NODE.textproto --restore-from THIS_DIRECTORY\n"
    "then start the node: it serves its peers only once they confirm its\n"
    "log is not behind what they witnessed, or its admin acknowledges.\n";

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(errno)));
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Errno("read", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

absl::Status CheckBackupPath(const std::string& to_dir) {
  HAVEN_RETURN_IF_ERROR(CheckPlainText(to_dir, "to_dir", limits::kMaxPathBytes,
                                       /*required=*/true));
  if (to_dir.front() != '/' || absl::StrContains(to_dir, "/../") ||
      absl::EndsWith(to_dir, "/..") || to_dir.back() == '/') {
    return absl::InvalidArgumentError(
        "to_dir must be an absolute path to a new directory, e.g. "
        "/var/lib/haven/backups/2026-12-03");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<haven::v1::BackupResponse> BackupMaker::Backup(
    const std::string& principal, const std::string& to_dir) {
  HAVEN_RETURN_IF_ERROR(CheckBackupPath(to_dir));
  absl::MutexLock lock(&mu_);
  const fs::path target(to_dir);
  const fs::path parent = target.parent_path();
  std::error_code error;
  if (fs::exists(fs::symlink_status(target, error))) {
    return absl::AlreadyExistsError(
        absl::StrCat(to_dir, " already exists; a backup never overwrites"));
  }
  if (!fs::is_directory(parent, error)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the directory ", parent.string(), " does not exist on the node"));
  }
  // Built beside its final name and renamed once complete, so that a
  // directory under that name is always a whole backup. A leftover from a
  // backup cut short is removed first.
  const std::string staging =
      (parent / absl::StrCat(".", target.filename().string(), ".partial"))
          .string();
  fs::remove_all(staging, error);

  const audit::AuditLog& log = *deps_.recorder->log();
  // Read before the copy: the copy holds at least this much of the log.
  const haven::v1::Checkpoint before = log.LatestCheckpoint();
  haven::v1::BackupInfo info;
  info.set_format(kBackupFormat);
  info.set_agency_id(deps_.agency_id);
  info.set_taken_unix(deps_.recorder->clock()->NowUnix());
  info.set_tree_size(before.tree_size());
  info.set_root_hash(before.root_hash());
  std::string info_text;
  google::protobuf::TextFormat::PrintToString(info, &info_text);

  auto copied = deps_.storage->CopyTo(staging);
  absl::Status written = copied.status();
  if (written.ok()) {
    written = storage::WriteNewFileSynced(
        absl::StrCat(staging, "/", kBackupInfoFile),
        absl::StrCat("# What this Haven backup holds; "
                     "see HAVEN-BACKUP-README.txt.\n",
                     info_text));
  }
  if (written.ok()) {
    written = storage::WriteNewFileSynced(
        absl::StrCat(staging, "/", kBackupReadmeFile), kReadme);
  }
  if (written.ok()) written = storage::SyncPath(staging);
  if (written.ok() && ::rename(staging.c_str(), to_dir.c_str()) != 0) {
    written = Errno("rename the backup to", to_dir);
  }
  if (written.ok()) written = storage::SyncPath(parent.string());
  if (!written.ok()) {
    fs::remove_all(staging, error);
    return written;
  }

  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::BACKUP_TAKEN);
  entry.set_detail(absl::StrCat("backup holding at least ", info.tree_size(),
                                " log entries"));
  auto index = deps_.recorder->Record(entry, principal, "");
  if (!index.ok()) {
    // Every backup is in the log, or it does not exist.
    fs::remove_all(to_dir, error);
    return index.status();
  }
  haven::v1::BackupResponse response;
  response.set_tree_size(info.tree_size());
  response.set_audit_index(*index);
  response.set_bytes(*copied);
  return response;
}

absl::Status CheckNoIncompleteRestore(const std::string& data_dir) {
  std::error_code error;
  if (fs::exists(fs::path(data_dir) / kRestoreIncompleteFile, error)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a restore into the data dir ", data_dir,
        " did not finish; empty it and run havend --restore-from again"));
  }
  return absl::OkStatus();
}

absl::Status RestoreBackup(const std::string& backup_dir,
                           const std::string& data_dir,
                           const std::string& agency_id) {
  const std::string info_path = absl::StrCat(backup_dir, "/", kBackupInfoFile);
  auto info_text = ReadWholeFile(info_path);
  if (!info_text.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        backup_dir, " is not a complete Haven backup (no readable ",
        kBackupInfoFile, ")"));
  }
  haven::v1::BackupInfo info;
  if (!google::protobuf::TextFormat::ParseFromString(*info_text, &info) ||
      info.format() != kBackupFormat) {
    return absl::FailedPreconditionError(
        absl::StrCat(info_path, " is not a ", kBackupFormat, " backup"));
  }
  if (info.agency_id() != agency_id) {
    return absl::FailedPreconditionError(
        absl::StrCat("the backup is of agency '", info.agency_id(),
                     "', the config's node is '", agency_id, "'"));
  }

  std::error_code error;
  if (!fs::exists(data_dir, error)) {
    if (!fs::create_directories(data_dir, error)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot create the data dir ", data_dir, ": ", error.message()));
    }
  }
  if (!fs::is_empty(data_dir, error)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the data dir ", data_dir,
                     " is not empty; a restore only goes into an empty one"));
  }
  if (::chmod(data_dir.c_str(), 0700) != 0) return Errno("chmod", data_dir);

  const std::string incomplete =
      absl::StrCat(data_dir, "/", kRestoreIncompleteFile);
  HAVEN_RETURN_IF_ERROR(
      storage::WriteNewFileSynced(incomplete, "restore in progress\n"));
  HAVEN_RETURN_IF_ERROR(storage::SyncPath(data_dir));
  for (const auto& file : fs::directory_iterator(backup_dir, error)) {
    const std::string name = file.path().filename().string();
    // The backup of a node that was itself restored: this restore writes
    // its own record.
    if (name == kBackupInfoFile || name == kBackupReadmeFile ||
        name == storage::SideFileName(audit::kRestoredSideFile)) {
      continue;
    }
    if (!file.is_regular_file(error)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "unexpected entry ", name, " in the backup; nothing was started"));
    }
    const std::string to = absl::StrCat(data_dir, "/", name);
    if (!fs::copy_file(file.path(), to, error)) {
      return absl::UnavailableError(
          absl::StrCat("cannot copy ", name, ": ", error.message()));
    }
    if (::chmod(to.c_str(), 0600) != 0) return Errno("chmod", to);
    HAVEN_RETURN_IF_ERROR(storage::SyncPath(to));
  }
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot list ", backup_dir, ": ", error.message()));
  }
  info.set_restore_logged(false);
  HAVEN_RETURN_IF_ERROR(storage::WriteNewFileSynced(
      absl::StrCat(data_dir, "/",
                   storage::SideFileName(audit::kRestoredSideFile)),
      info.SerializeAsString()));
  HAVEN_RETURN_IF_ERROR(storage::SyncPath(data_dir));
  if (::unlink(incomplete.c_str()) != 0) return Errno("remove", incomplete);
  return storage::SyncPath(data_dir);
}

}  // namespace haven::server::backup
