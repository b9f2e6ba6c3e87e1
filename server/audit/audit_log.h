// AuditLog: the node's append-only, tamper-evident audit log, and the one
// place the node's state changes are committed.
//
// Leaves are the deterministic serialization of haven.v1.AuditEntry; tree
// hashing is RFC 6962 (client/verify/merkle.h). The log keeps, in the
// kAudit family:
//   'L' + be64(index)              leaf bytes
//   'N' + u8(level) + be64(index)  hash of the perfect subtree of 2^level
//                                  leaves starting at leaf index << level
//   'S'                            be64 tree size
//   'C'                            latest signed checkpoint note
//   'G', 'U'                       state summary and undo record
//   (state_guard.h)
// so inclusion and consistency proofs take O(log n) reads.
//
// One action, one write: an Action's state changes and its entries are
// committed in one Storage write, so both are durable or neither is.
// Commits are grouped: the commit thread takes every queued action (up to
// Options::max_batch entries), writes them in one synced batch with one
// new signed checkpoint, then reports to each caller. Callers that must not
// block (RPC reactors) use the *Async forms.
//
// Fail-stop: if a commit's write or sync fails, every action of it reports
// UNAVAILABLE ("audit log unavailable; operation not performed"), the log
// takes no further commit, and the storage stops the node (storage.h). The
// failed commit may still have reached the disk; so before reporting, the
// log leaves a sealed side file naming its entries, and the next Open
// undoes that commit's state changes (except erasures) and logs a
// WRITES_VOIDED entry saying so. Its entries stay in the log: an index is
// never reused.
//
// Recovery checks itself. Open verifies the stored checkpoint against the
// tree, the newest leaves against their hashes, the tree against the
// checkpoint kept in a side file outside the write-ahead log (so a lost or
// cut log tail, or a data dir put back from an older copy, is caught rather
// than silently overwritten), and the guarded state against the summary of
// the last commit. The side file is rewritten after every commit by a
// background thread, a few milliseconds behind the commit.
//
// Signing-key rotation (SwitchSigningKey): the entry recording the switch
// is the last of its group commit, whose checkpoint is the last the old key
// signs; the new key is put in force once that commit is durable, before
// the next checkpoint is signed. Checkpoints signed by earlier keys still
// count as the node's own (Options::earlier_verifier_keys).
//
// With Options::metrics set, each commit is counted: the entries appended
// (haven_audit_entries_appended_total), the entries per group commit
// (haven_audit_commit_entries), and how long its write and sync took
// (haven_audit_commit_write_seconds).
//
// Thread-safe.
#ifndef HAVEN_SERVER_AUDIT_AUDIT_LOG_H_
#define HAVEN_SERVER_AUDIT_AUDIT_LOG_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/verify/signed_note.h"
#include "haven/base/clock.h"
#include "haven/base/limits.h"
#include "haven/v1/audit.pb.h"
#include "server/audit/action.h"
#include "server/audit/state_guard.h"
#include "server/crypto/ed25519_signer.h"
#include "server/crypto/state_sealer.h"
#include "server/metrics/registry.h"
#include "server/storage/storage.h"

namespace haven::server::audit {

class AuditLog {
 public:
  struct Options {
    // Checkpoint origin and signed-note key name, e.g.
    // "agency-a.haven.example/log". No whitespace, no '+'.
    std::string origin;
    // This node's agency, for the entries the log writes itself.
    std::string agency_id;
    // All borrowed; must outlive the log.
    const crypto::Ed25519Signer* signer = nullptr;
    const crypto::StateSealer* sealer = nullptr;
    storage::Storage* storage = nullptr;
    const Clock* clock = nullptr;
    // Sync every batch. Only bulk loaders in benchmarks turn this off.
    bool sync = true;
    // Most leaves in one group commit.
    size_t max_batch = 4096;
    // Where commits are counted (see the class comment); borrowed, must
    // outlive the log. nullptr counts nothing.
    metrics::Registry* metrics = nullptr;
    // Verifier keys of the signing keys this node used before `signer`'s
    // (after a rotation), oldest first: checkpoints signed by them still
    // count as its own (the stored one, the side file's, as peers saw
    // them).
    std::vector<std::string> earlier_verifier_keys;
  };

  // A switch of the node's signing key (SwitchSigningKey).
  struct KeySwitch {
    // The SIGNING_KEY_ROTATED entry, stamped, with its key_switch set but
    // for tree_size, which the log fills in.
    v1::AuditEntry entry;
    // The new key as stored (sealed) by its owner: committed with the
    // entry, in the same write.
    storage::WriteBatch state;
    // Puts the new key in force (Ed25519Signer::Replace on the log's
    // signer). Runs on the commit thread once the entry and `state` are
    // durable, before any later checkpoint is signed; must not block or
    // fail.
    absl::AnyInvocable<void()> install;
  };

  // What Open found and did about a commit whose sync had failed.
  struct Recovery {
    // A commit had failed (its side file was there).
    bool unconfirmed_commit = false;
    // Its entries [first, end) were on disk and are now void (end > first),
    // except `kept`; end == first when they never reached the disk.
    uint64_t voided_first = 0;
    uint64_t voided_end = 0;
    std::vector<uint64_t> kept;
  };

  // Opens the log, checks it (see the class comment) and finishes what a
  // failed commit left. DATA_LOSS with what disagrees and what to do if a
  // check fails; nothing must be served then.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(Options options);

  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // The bytes a leaf holds for `entry`: deterministic protobuf encoding.
  static std::string CanonicalLeaf(const v1::AuditEntry& entry);

  // Reports the first leaf index of an append once its entries are durably
  // written and covered by a signed checkpoint (LatestCheckpoint() covers
  // them while the callback runs), or UNAVAILABLE ("audit log unavailable;
  // operation not performed"). Runs on the log's commit thread, which writes
  // no further batch until it returns: it must not block, and must not call
  // Append or AppendBatch (AppendAsync is fine).
  using AppendDone = absl::AnyInvocable<void(absl::StatusOr<uint64_t>)>;

  // Queues `action` and returns at once; `done` gets the index of its first
  // entry, exactly once. No entries: INVALID_ARGUMENT, at once.
  void CommitAsync(Action action, AppendDone done);
  // As CommitAsync, waiting for the result.
  absl::StatusOr<uint64_t> Commit(Action action);
  // Commits a change that needs no entry of its own (removing a message a
  // peer has accepted), riding the next group commit like an action, so
  // that the state summary stays true. Waits.
  absl::Status CommitState(storage::WriteBatch state);

  // Queues `entry` and returns at once; `done` is called exactly once.
  void AppendAsync(const v1::AuditEntry& entry, AppendDone done);
  // Appends `entry` and waits for the result AppendAsync would report.
  absl::StatusOr<uint64_t> Append(const v1::AuditEntry& entry);
  // Queues several entries for consecutive indices in one commit; `done`
  // gets the first index. Empty `entries`: INVALID_ARGUMENT, at once.
  void AppendBatchAsync(const std::vector<v1::AuditEntry>& entries,
                        AppendDone done);
  // As AppendBatchAsync, waiting for the first index.
  absl::StatusOr<uint64_t> AppendBatch(
      const std::vector<v1::AuditEntry>& entries);

  // Commits `change` as the last entry of a group commit: that commit's
  // checkpoint (of key_switch.tree_size entries, this one the last) is the
  // last the old key signs; every later one is signed by the new key.
  // Waits; returns the entry's index, or UNAVAILABLE as Commit. After
  // UNAVAILABLE the old key stays in force in this process; if the write
  // reached the disk anyway, the next start loads the new key and the log
  // keeps the switch rather than undo it (StateGuard::ActionState).
  absl::StatusOr<uint64_t> SwitchSigningKey(KeySwitch change);

  // Commits what is queued, then stops the commit thread.
  ~AuditLog();

  // What Open did about a failed commit.
  const Recovery& recovery() const { return recovery_; }
  // Whether a commit failed since Open (the log takes no more).
  bool failed() const;
  // Waits (up to `timeout`) until no commit is in progress, so that one
  // whose write failed has left its word for the next start: a process
  // stopping after a storage failure calls it before it exits. Returns
  // whether it settled in time.
  bool AwaitCommitsSettled(absl::Duration timeout) const;

  // Number of entries covered by the latest checkpoint.
  uint64_t Size() const;
  // The latest signed checkpoint (note text verbatim plus parsed fields).
  v1::Checkpoint LatestCheckpoint() const;
  // "<origin>+<key id>+<base64(0x01 || public key)>" of the key in force.
  std::string VerifierKey() const;
  // Every key this node signed its checkpoints with: the one in force
  // first, then earlier ones, newest first.
  std::vector<std::string> VerifierKeys() const;
  // Verifies `note` as a checkpoint of this log signed by one of
  // VerifierKeys(); the error is the one under the key in force when none
  // signed it.
  absl::StatusOr<client::CheckpointBody> VerifyOwnCheckpoint(
      absl::string_view note) const;
  const std::string& origin() const { return origin_; }

  // Entries from `start` on: at most `count`, and at most
  // limits::kMaxEntriesPerRead (1000); clipped to Size(); and cut short
  // before the entries (IndexedEntry, serialized) would pass `max_bytes`,
  // though the first is always returned whatever its size. So a reader
  // continues from the index after the last entry it got, not from
  // start + count; it gets at least one entry while start < Size().
  // Entries are kept in memory only for the page, so `max_bytes` also
  // bounds what a read holds. OUT_OF_RANGE if start > Size(). DATA_LOSS if
  // a stored leaf is missing.
  absl::StatusOr<std::vector<v1::IndexedEntry>> GetEntries(
      uint64_t start, uint64_t count,
      size_t max_bytes = limits::kMaxReadBytes) const;
  // Inclusion proof for `index` in the tree of `tree_size` leaves (0 means
  // Size()). INVALID_ARGUMENT unless index < tree_size <= Size().
  absl::StatusOr<v1::InclusionProof> InclusionProof(uint64_t index,
                                                    uint64_t tree_size) const;
  // Consistency proof from old_size to new_size (0 means Size()), with the
  // old root. INVALID_ARGUMENT unless old_size <= new_size <= Size().
  absl::StatusOr<v1::ConsistencyProof> ConsistencyProof(
      uint64_t old_size, uint64_t new_size) const;
  // Root of the tree of the first `tree_size` leaves (<= Size()).
  absl::StatusOr<std::string> RootAt(uint64_t tree_size) const;

  // Group commits done since Open (for tests and benchmarks).
  int64_t batches() const;

 private:
  // Tree nodes at this level and above (one per 2^level leaves) are kept in
  // memory once written or read, so a proof reads only a few low-level nodes
  // from storage. Memory: 32 bytes * n / 2^(level-1), i.e. 16 bytes per leaf.
  static constexpr int kCacheMinLevel = 2;

  // A perfect subtree on the right edge of the tree.
  struct FrontierNode {
    int level;
    uint64_t index;
    std::string hash;
  };
  using Frontier = std::vector<FrontierNode>;

  // One queued action.
  struct Pending {
    std::vector<std::string> leaves;
    storage::WriteBatch state;
    AppendDone done;
    // A key switch (SwitchSigningKey): its entry, serialized once its index
    // is known, and what puts the new key in force. It ends its batch.
    std::optional<v1::AuditEntry> key_switch;
    absl::AnyInvocable<void()> install;
  };

  AuditLog(Options options, std::vector<std::string> verifier_keys);

  void Enqueue(Pending pending);
  // The Open checks that need the tree (see the class comment).
  absl::Status CheckTail(uint64_t size) const;
  absl::Status CheckSavedCheckpoint(uint64_t size, const Frontier& frontier);
  absl::Status CheckState(uint64_t size) const;
  // Finishes a commit that failed before the last stop.
  absl::Status RecoverUnconfirmedCommit();
  // Leaves word of the failed commit [first, end) for the next start.
  void RecordUnconfirmed(uint64_t first, uint64_t end, const std::string& note);
  // Rewrites the checkpoint side file after commits, until the log stops.
  void KeepCheckpointFile();
  absl::Status WriteCheckpointSlot(int slot, const std::string& note);
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The commit thread: waits for queued appends and commits them in groups.
  void CommitLoop();
  // Writes `batch` with one sync and one checkpoint; reports to each.
  void Commit(std::vector<Pending> batch);
  std::string SignCheckpoint(uint64_t size, const std::string& root) const;
  static std::string FrontierRoot(const Frontier& frontier);
  absl::StatusOr<std::string> ReadNode(int level, uint64_t index) const;
  void CacheNode(int level, uint64_t index, const std::string& hash) const;
  // Hash of leaves [begin, end) using stored perfect subtrees, or `frontier`
  // entries where they match.
  absl::StatusOr<std::string> SubtreeHash(uint64_t begin, uint64_t end,
                                          const Frontier& frontier) const;
  absl::Status Path(uint64_t m, uint64_t begin, uint64_t end,
                    const Frontier& frontier,
                    std::vector<std::string>* out) const;
  absl::Status SubProof(uint64_t m, uint64_t begin, uint64_t end, bool whole,
                        const Frontier& frontier,
                        std::vector<std::string>* out) const;
  // Size and frontier as of now, under mu_.
  void Snapshot(uint64_t* size, Frontier* frontier) const;

  // Constant after construction.
  const std::string origin_;
  const std::string agency_id_;
  const crypto::Ed25519Signer* const signer_;
  const crypto::StateSealer* const sealer_;
  storage::Storage* const storage_;
  const Clock* const clock_;
  const bool sync_;
  const size_t max_batch_;
  // Null without Options::metrics.
  metrics::Counter* entries_appended_ = nullptr;
  metrics::Histogram* commit_entries_ = nullptr;
  metrics::Histogram* commit_write_seconds_ = nullptr;

  mutable absl::Mutex mu_;
  // Protected by mu_.
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  // VerifierKeys(): the key in force first. Changes on the commit thread.
  std::vector<std::string> verifier_keys_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Size, frontier and checkpoint change only on the commit thread, which
  // alone writes keys at or beyond size_.
  uint64_t size_ ABSL_GUARDED_BY(mu_) = 0;
  Frontier frontier_ ABSL_GUARDED_BY(mu_);
  v1::Checkpoint checkpoint_ ABSL_GUARDED_BY(mu_);
  int64_t batches_ ABSL_GUARDED_BY(mu_) = 0;
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  // A commit is between taking its batch and reporting it.
  bool committing_ ABSL_GUARDED_BY(mu_) = false;
  bool committer_done_ ABSL_GUARDED_BY(mu_) = false;
  // The newest note the checkpoint side file holds.
  std::string saved_note_ ABSL_GUARDED_BY(mu_);

  // Used by the commit thread only (and Open before it starts).
  std::unique_ptr<StateGuard> guard_;
  // Used by the checkpoint keeper only: the slot last written.
  int saved_slot_ = 0;
  Recovery recovery_;

  // Committed upper-level node hashes: for level L >= kCacheMinLevel,
  // cache_[L - kCacheMinLevel] holds node i at bytes [32 i, 32 i + 32) and
  // cached_[...][i] says whether it is loaded. Committed nodes never change.
  mutable absl::Mutex cache_mu_;
  mutable std::vector<std::string> cache_ ABSL_GUARDED_BY(cache_mu_);
  mutable std::vector<std::vector<bool>> cached_ ABSL_GUARDED_BY(cache_mu_);

  // Started by Open once the log is read; joined by the destructor.
  std::thread committer_;
  std::thread checkpoint_keeper_;
};

}  // namespace haven::server::audit

#endif  // HAVEN_SERVER_AUDIT_AUDIT_LOG_H_
