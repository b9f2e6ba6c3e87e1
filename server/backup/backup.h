// Backup and restore of a node's data dir.
//
// A backup is a directory on the node's host: a consistent copy of the
// database and its side files (Storage::CopyTo), a haven-backup-info file
// saying whose it is and how far its log went, and a README. Everything in
// it that is personal is sealed under keys derived from the node's master
// key, which a backup never holds: without that key it is useless, and
// with it, it is the node. It appears under its final name only once
// complete and synced, and each backup is logged (BACKUP_TAKEN).
//
// RestoreBackup puts a backup into an empty data dir for `havend
// --restore-from`. The node's first start after it is watched by the
// RollbackGuard (server/audit/rollback_guard.h): peers are refused until
// they confirm the restored log is not behind what they witnessed.
#ifndef HAVEN_SERVER_BACKUP_BACKUP_H_
#define HAVEN_SERVER_BACKUP_BACKUP_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "haven/v1/admin.pb.h"
#include "server/audit/audit_recorder.h"
#include "server/storage/storage.h"

namespace haven::server::backup {

// The file in a backup that says what it holds (text format BackupInfo).
inline constexpr char kBackupInfoFile[] = "haven-backup-info";
inline constexpr char kBackupReadmeFile[] = "HAVEN-BACKUP-README.txt";
inline constexpr char kBackupFormat[] = "haven-backup/1";
// Present in a data dir while a restore into it runs; a node refuses to
// start on a data dir holding it.
inline constexpr char kRestoreIncompleteFile[] = "haven-restore-incomplete";

// Takes online backups of one node. Thread-safe; one backup at a time.
class BackupMaker {
 public:
  struct Deps {
    std::string agency_id;
    // Borrowed; must outlive the maker.
    const storage::Storage* storage = nullptr;
    const audit::AuditRecorder* recorder = nullptr;
  };
  explicit BackupMaker(Deps deps) : deps_(std::move(deps)) {}

  // Backs the node up into `to_dir`: an absolute path that does not exist
  // yet, whose parent does. INVALID_ARGUMENT for a bad path,
  // ALREADY_EXISTS, FAILED_PRECONDITION if the parent is missing,
  // UNAVAILABLE if writing fails (nothing is left under `to_dir` then).
  absl::StatusOr<haven::v1::BackupResponse> Backup(const std::string& principal,
                                                   const std::string& to_dir);

 private:
  const Deps deps_;
  absl::Mutex mu_;  // one backup at a time
};

// Copies the backup in `backup_dir` into `data_dir`, which must be missing
// or empty, for the node of `agency_id`; the next start is a first start
// after a restore. FAILED_PRECONDITION (saying what to do) if the backup is
// incomplete, of another agency or of an unknown format, or if the data
// dir is not empty.
absl::Status RestoreBackup(const std::string& backup_dir,
                           const std::string& data_dir,
                           const std::string& agency_id);

// FAILED_PRECONDITION if a restore into `data_dir` did not finish.
absl::Status CheckNoIncompleteRestore(const std::string& data_dir);

}  // namespace haven::server::backup

#endif  // HAVEN_SERVER_BACKUP_BACKUP_H_
