// Storage: the one seam every durable write of the server goes through.
//
// Modeled on LevelDB's Env: a small interface with one production
// implementation (RocksDbStorage, the node's RocksDB) and a test one
// (tests/testing/fault_injecting_storage.h) that can fail a write, fail a
// sync, drop what was not synced, or cut and corrupt the write-ahead log at
// a chosen point, so that crash and bad-disk behaviour is tested without a
// disk.
//
// Writes are WriteBatches: every operation in one batch is applied
// atomically (all or none, also across a crash). A synced write is on
// stable storage when it returns, and so is every write before it.
//
// Fail-stop: the first failed write or sync stops the storage for good.
// Every later write fails at once with UNAVAILABLE and nothing is retried
// (after a failed fsync the kernel may have dropped the dirty pages it
// could not write, so a retry that "succeeds" proves nothing). The handler
// set with OnWriteFailure runs once, on the failing thread; the node stops
// serving and exits from it. Reads keep working.
//
// Side files are small files beside the database, outside its write-ahead
// log, each replaced in place and synced: what must survive when the log's
// tail does not (the last signed checkpoint) and what a failed write leaves
// for the next start (which entries were never confirmed).
//
// Thread-safe.
#ifndef HAVEN_SERVER_STORAGE_STORAGE_H_
#define HAVEN_SERVER_STORAGE_STORAGE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "haven/base/status_macros.h"

namespace haven::server::storage {

// Column families. Keys never hold personal data (random ids, keyed
// hashes, log indices); values outside kMeta and kAudit are sealed.
enum class Family : uint8_t {
  kMeta = 0,      // key check value, key versions, witnessed checkpoints
  kVault = 1,     // encrypted records and wrapped data keys
  kConsent = 2,   // consents, refusals, use counts, run-time policy (sealed)
  kExchange = 3,  // handles issued and received, peer outbox (sealed)
  kAudit = 4,     // audit log leaves, tree nodes, checkpoint, commit records
};
inline constexpr int kFamilyCount = 5;
// "meta", "vault", ...: for messages and the test storage.
absl::string_view FamilyName(Family family);

// An ordered list of puts and deletes applied atomically by Storage::Write.
// A later operation on the same key wins. Not thread-safe.
class WriteBatch {
 public:
  struct Op {
    Family family;
    std::string key;
    // Absent for a delete.
    std::optional<std::string> value;
  };

  void Put(Family family, std::string key, std::string value);
  void Delete(Family family, std::string key);
  // Appends every operation of `other` after this batch's own.
  void Append(WriteBatch other);

  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  // Keys and values, in bytes.
  size_t bytes() const { return bytes_; }

 private:
  std::vector<Op> ops_;
  size_t bytes_ = 0;
};

class Storage {
 public:
  // Called for every key under a prefix, in key order; returning false
  // stops the scan.
  using ScanFn =
      absl::FunctionRef<bool(absl::string_view key, absl::string_view value)>;

  virtual ~Storage() = default;

  // Runs once, on the thread whose write failed first (see the class
  // comment). Set before the first write.
  void OnWriteFailure(absl::AnyInvocable<void(const absl::Status&)> handler);

  // Applies `batch` atomically; with `sync`, durably before returning. An
  // error means the batch may or may not be on disk: the storage has
  // stopped (UNAVAILABLE for every later write). An empty batch is a no-op.
  absl::Status Write(const WriteBatch& batch, bool sync);
  // The value at `key`, or nullopt.
  virtual absl::StatusOr<std::optional<std::string>> Get(
      Family family, absl::string_view key) const = 0;
  // Every key starting with `prefix`, in order (see ScanFn).
  absl::Status Scan(Family family, absl::string_view prefix, ScanFn fn) const {
    return ScanFrom(family, prefix, prefix, fn);
  }
  // As Scan, each value parsed as a `Message` and handed to `fn` (which
  // returns false to stop). A value that does not parse stops the scan with
  // DATA_LOSS "stored <what> is corrupt": stored state is never skipped.
  template <typename Message, typename Fn>
  absl::Status ScanMessages(Family family, absl::string_view prefix,
                            absl::string_view what, Fn fn) const {
    absl::Status corrupt;
    HAVEN_RETURN_IF_ERROR(
        Scan(family, prefix, [&](absl::string_view, absl::string_view value) {
          Message message;
          if (!message.ParseFromArray(value.data(),
                                      static_cast<int>(value.size()))) {
            corrupt = absl::DataLossError(
                absl::StrCat("stored ", what, " is corrupt"));
            return false;
          }
          return fn(std::move(message));
        }));
    return corrupt;
  }
  // As Scan, from the first key under `prefix` at or after `start` (a seek,
  // for reading a long range a page at a time).
  virtual absl::Status ScanFrom(Family family, absl::string_view prefix,
                                absl::string_view start, ScanFn fn) const = 0;
  // Rewrites the files holding [begin, end) of `family` (both empty: the
  // whole family) so that deleted values are in no live file any more.
  absl::Status Compact(Family family, absl::string_view begin,
                       absl::string_view end);

  // Replaces side file `name` ([a-z0-9-]+) with `bytes`, synced, atomically
  // (a new file renamed over the old one).
  absl::Status WriteSideFile(absl::string_view name, absl::string_view bytes);
  // Writes `bytes` over side file `name` at `offset`, in place (creating
  // the file if needed), and syncs its data: one sync instead of
  // WriteSideFile's three, for files rewritten often. Not atomic: a crash
  // during the write can leave that part torn, so callers keep two copies
  // at different offsets and check what they read.
  absl::Status OverwriteSideFile(absl::string_view name, size_t offset,
                                 absl::string_view bytes);
  // The side file's bytes, or nullopt if there is none.
  virtual absl::StatusOr<std::optional<std::string>> ReadSideFile(
      absl::string_view name) const = 0;
  // Removes a side file (no error if there is none), synced.
  absl::Status RemoveSideFile(absl::string_view name);

  // Copies the database and its side files into `dir`, which must not
  // exist (its parent must), while writes go on: the database as of one
  // instant, each side file as read just before that instant (so a side
  // file never runs ahead of the database it describes). Returns the
  // bytes copied or linked. UNIMPLEMENTED for storage that lives in memory.
  virtual absl::StatusOr<uint64_t> CopyTo(const std::string& dir) const {
    (void)dir;
    return absl::UnimplementedError("this storage cannot be copied");
  }

  // Whether a write has failed (the storage has stopped).
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }

 protected:
  virtual absl::Status DoWrite(const WriteBatch& batch, bool sync) = 0;
  virtual absl::Status DoCompact(Family family, absl::string_view begin,
                                 absl::string_view end) = 0;
  virtual absl::Status DoWriteSideFile(absl::string_view name,
                                       absl::string_view bytes) = 0;
  virtual absl::Status DoOverwriteSideFile(absl::string_view name,
                                           size_t offset,
                                           absl::string_view bytes) = 0;
  virtual absl::Status DoRemoveSideFile(absl::string_view name) = 0;

 private:
  // Stops the storage after `failure` and runs the handler once.
  absl::Status Fail(absl::Status failure);
  static absl::Status Stopped();

  std::atomic<bool> stopped_{false};
  absl::Mutex handler_mu_;
  absl::AnyInvocable<void(const absl::Status&)> on_failure_
      ABSL_GUARDED_BY(handler_mu_);
};

// Whether `name` may name a side file.
bool IsValidSideFileName(absl::string_view name);

}  // namespace haven::server::storage

#endif  // HAVEN_SERVER_STORAGE_STORAGE_H_
