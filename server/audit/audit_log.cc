#include "server/audit/audit_log.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/verify/crypto.h"
#include "client/verify/merkle.h"
#include "client/verify/signed_note.h"
#include "haven/base/await.h"
#include "haven/base/deterministic.h"
#include "haven/base/page_budget.h"
#include "haven/base/status_macros.h"

namespace haven::server::audit {
namespace {

using storage::Family;

// Newest leaves whose bytes Open checks against the tree.
constexpr uint64_t kTailLeavesChecked = 1024;
// Side files: the latest checkpoint, and word of a failed commit.
constexpr absl::string_view kCheckpointFile = "checkpoint";
// Each of the file's two slots: a note, then zeros.
constexpr size_t kCheckpointSlotBytes = 2048;
// The least time between two saves of the checkpoint file.
constexpr absl::Duration kCheckpointSaveInterval = absl::Milliseconds(20);
constexpr absl::string_view kUnconfirmedFile = "unconfirmed-commit";
constexpr absl::string_view kUnconfirmedPlace = "side/unconfirmed-commit";
constexpr char kLeafPrefix = 'L';
constexpr char kNodePrefix = 'N';
constexpr absl::string_view kSizeKey = "S";
constexpr absl::string_view kCheckpointKey = "C";

void AppendBigEndian64(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>(v >> shift));
  }
}

uint64_t ReadBigEndian64(absl::string_view b) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(b[i]);
  return v;
}

std::string LeafKey(uint64_t index) {
  std::string key(1, kLeafPrefix);
  AppendBigEndian64(index, &key);
  return key;
}

std::string NodeKey(int level, uint64_t index) {
  std::string key(1, kNodePrefix);
  key.push_back(static_cast<char>(level));
  AppendBigEndian64(index, &key);
  return key;
}

std::string SizeValue(uint64_t size) {
  std::string v;
  AppendBigEndian64(size, &v);
  return v;
}

absl::Status Unavailable() {
  return absl::UnavailableError(
      "audit log unavailable; operation not performed");
}

}  // namespace

AuditLog::AuditLog(Options options, std::vector<std::string> verifier_keys)
    : origin_(std::move(options.origin)),
      agency_id_(std::move(options.agency_id)),
      signer_(options.signer),
      sealer_(options.sealer),
      storage_(options.storage),
      clock_(options.clock),
      sync_(options.sync),
      max_batch_(std::max<size_t>(1, options.max_batch)),
      verifier_keys_(std::move(verifier_keys)) {
  if (options.metrics != nullptr) {
    entries_appended_ = options.metrics->AddCounter(
        "haven_audit_entries_appended_total",
        "Entries appended to the audit log, durable.", {});
    commit_entries_ = options.metrics->AddHistogram(
        "haven_audit_commit_entries",
        "Entries per group commit of the audit log (commits that append).", {},
        metrics::ExponentialBuckets(1, 2, 13));
    // An fsync costs ~0.4 ms on a good disk; the buckets reach 4 s.
    commit_write_seconds_ = options.metrics->AddHistogram(
        "haven_audit_commit_write_seconds",
        "Time to write and sync one group commit of the audit log.", {},
        metrics::ExponentialBuckets(0.0001, 2.5, 12));
  }
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(Options options) {
  if (options.signer == nullptr || options.storage == nullptr ||
      options.sealer == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError(
        "audit log needs a signer, a sealer, a storage and a clock");
  }
  const crypto::Ed25519Signer::PublicKey& pk = options.signer->public_key();
  absl::StatusOr<std::string> vkey = client::FormatVerifierKey(
      options.origin, std::string(pk.begin(), pk.end()));
  if (!vkey.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "audit log origin \"", options.origin,
        "\" cannot name a signed-note key: ", vkey.status().message()));
  }
  std::vector<std::string> keys = {*vkey};
  for (auto it = options.earlier_verifier_keys.rbegin();
       it != options.earlier_verifier_keys.rend(); ++it) {
    HAVEN_RETURN_IF_ERROR(client::ParseVerifierKey(*it).status());
    keys.push_back(*it);
  }
  std::unique_ptr<AuditLog> log(
      new AuditLog(std::move(options), std::move(keys)));
  storage::Storage* storage = log->storage_;

  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> size_value,
                         storage->Get(Family::kAudit, kSizeKey));
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> note,
                         storage->Get(Family::kAudit, kCheckpointKey));
  uint64_t size = 0;
  if (size_value.has_value()) {
    if (size_value->size() != 8) {
      return absl::DataLossError("audit log size record is malformed");
    }
    size = ReadBigEndian64(*size_value);
  }
  // The frontier: one perfect subtree per set bit of size, largest first.
  Frontier frontier;
  uint64_t begin = 0;
  for (int level = 63; level >= 0; --level) {
    if (((size >> level) & 1) == 0) continue;
    uint64_t index = begin >> level;
    HAVEN_ASSIGN_OR_RETURN(std::string hash, log->ReadNode(level, index));
    frontier.push_back({level, index, std::move(hash)});
    begin += uint64_t{1} << level;
  }
  std::string root = FrontierRoot(frontier);

  v1::Checkpoint checkpoint;
  if (note.has_value()) {
    absl::StatusOr<client::CheckpointBody> body =
        log->VerifyOwnCheckpoint(*note);
    if (!body.ok()) {
      return absl::DataLossError(absl::StrCat(
          "stored audit checkpoint does not verify under this node's key: ",
          body.status().message()));
    }
    if (body->tree_size != size || body->root_hash != root) {
      return absl::DataLossError(absl::StrCat(
          "stored audit log (", size,
          " entries) does not match its signed checkpoint (", body->tree_size,
          " entries): the log was altered or truncated"));
    }
    checkpoint.set_note(*note);
  } else {
    if (size != 0) {
      return absl::DataLossError(absl::StrCat(
          "audit log has ", size, " entries but no signed checkpoint"));
    }
    checkpoint.set_note(log->SignCheckpoint(0, root));
  }
  checkpoint.set_origin(log->origin_);
  checkpoint.set_tree_size(size);
  checkpoint.set_root_hash(root);

  HAVEN_RETURN_IF_ERROR(log->CheckTail(size));
  HAVEN_RETURN_IF_ERROR(log->CheckSavedCheckpoint(size, frontier));
  HAVEN_ASSIGN_OR_RETURN(log->guard_, StateGuard::Open(storage, log->sealer_));
  HAVEN_RETURN_IF_ERROR(log->CheckState(size));

  {
    absl::MutexLock lock(&log->mu_);
    log->size_ = size;
    log->frontier_ = std::move(frontier);
    log->saved_note_ = checkpoint.note();
    log->checkpoint_ = std::move(checkpoint);
  }
  AuditLog* raw = log.get();
  log->committer_ = std::thread([raw] { raw->CommitLoop(); });
  if (log->sync_) {
    log->checkpoint_keeper_ = std::thread([raw] { raw->KeepCheckpointFile(); });
  }
  HAVEN_RETURN_IF_ERROR(log->RecoverUnconfirmedCommit());
  return log;
}

absl::Status AuditLog::CheckTail(uint64_t size) const {
  // The newest leaves are the ones a torn or edited write-ahead log would
  // touch; each must hash to the tree's leaf hash.
  const uint64_t first =
      size > kTailLeavesChecked ? size - kTailLeavesChecked : 0;
  for (uint64_t i = first; i < size; ++i) {
    HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> leaf,
                           storage_->Get(Family::kAudit, LeafKey(i)));
    HAVEN_ASSIGN_OR_RETURN(std::string hash, ReadNode(0, i));
    if (!leaf.has_value() || client::HashLeaf(*leaf) != hash) {
      return absl::DataLossError(absl::StrCat(
          "audit log entry ", i,
          " is missing or does not match the tree: the log was altered"));
    }
  }
  return absl::OkStatus();
}

absl::Status AuditLog::WriteCheckpointSlot(int slot, const std::string& note) {
  std::string bytes = note;
  bytes.resize(kCheckpointSlotBytes, '\0');
  return storage_->OverwriteSideFile(
      kCheckpointFile, static_cast<size_t>(slot) * kCheckpointSlotBytes, bytes);
}

absl::Status AuditLog::CheckSavedCheckpoint(uint64_t size,
                                            const Frontier& frontier) {
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> saved,
                         storage_->ReadSideFile(kCheckpointFile));
  if (!saved.has_value()) {
    if (size == 0) {
      // A new log: from here on the file always exists, both slots set.
      const std::string empty = SignCheckpoint(0, client::EmptyRoot());
      HAVEN_RETURN_IF_ERROR(WriteCheckpointSlot(0, empty));
      return WriteCheckpointSlot(1, empty);
    }
    return absl::DataLossError(absl::StrCat(
        "the audit log has ", size,
        " entries but the checkpoint kept beside it (haven-", kCheckpointFile,
        ") is missing: a rollback of the log could not be detected. Restore "
        "the data dir, that file included, from a backup"));
  }
  // Two slots, written in turn: a write torn by a crash spoils one, and
  // the other holds the checkpoint before it.
  std::optional<client::CheckpointBody> newest;
  for (int slot = 0; slot < 2; ++slot) {
    absl::string_view bytes(*saved);
    if (bytes.size() < static_cast<size_t>(slot) * kCheckpointSlotBytes) break;
    bytes = bytes.substr(static_cast<size_t>(slot) * kCheckpointSlotBytes,
                         kCheckpointSlotBytes);
    const size_t end = bytes.find('\0');
    if (end != absl::string_view::npos) bytes = bytes.substr(0, end);
    absl::StatusOr<client::CheckpointBody> body = VerifyOwnCheckpoint(bytes);
    if (body.ok() &&
        (!newest.has_value() || body->tree_size > newest->tree_size)) {
      newest = *std::move(body);
    }
  }
  if (!newest.has_value()) {
    return absl::DataLossError(absl::StrCat(
        "the checkpoint kept beside the audit log (haven-", kCheckpointFile,
        ") holds no checkpoint this node signed: it was altered. Restore the "
        "data dir from a backup"));
  }
  saved_slot_ = 0;
  if (newest->tree_size > size) {
    return absl::DataLossError(absl::StrCat(
        "this node signed a checkpoint of ", newest->tree_size,
        " audit entries, but its data dir holds only ", size,
        ": acknowledged writes are missing (a lost or cut write-ahead log "
        "tail, or a data dir put back from an older copy). Nothing is "
        "served: restore the newest backup of the data dir; peers that "
        "witnessed the lost entries will report a fork if the log is "
        "continued from here"));
  }
  HAVEN_ASSIGN_OR_RETURN(std::string root,
                         newest->tree_size == 0
                             ? absl::StatusOr<std::string>(client::EmptyRoot())
                             : SubtreeHash(0, newest->tree_size, frontier));
  if (root != newest->root_hash) {
    return absl::DataLossError(absl::StrCat(
        "the audit log does not extend the checkpoint of ", newest->tree_size,
        " entries this node signed: the log was rewritten. Restore the data "
        "dir from a backup"));
  }
  return absl::OkStatus();
}

absl::Status AuditLog::CheckState(uint64_t size) const {
  const std::optional<v1::StateSummary>& summary = guard_->stored_summary();
  if (!summary.has_value()) {
    if (size == 0 && guard_->digest() == std::string(32, '\0')) {
      return absl::OkStatus();
    }
    return absl::DataLossError(
        "the stored consents, handles or audit log have no state summary: "
        "the data dir was altered or is not this node's");
  }
  if (summary->log_size() != size) {
    return absl::DataLossError(
        absl::StrCat("the state summary goes with ", summary->log_size(),
                     " audit entries but the log has ", size,
                     ": the data dir was altered. Restore it from a backup"));
  }
  if (summary->digest() != guard_->digest()) {
    return absl::DataLossError(absl::StrCat(
        "the stored consents, refusals, use counts, handles or outbox "
        "messages are not what the audit log's last commit (entry ",
        size == 0 ? 0 : size - 1,
        ") left: a value was deleted, added or put back from an older copy. "
        "Nothing is served: restore the data dir from a backup"));
  }
  return absl::OkStatus();
}

absl::Status AuditLog::RecoverUnconfirmedCommit() {
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> sealed,
                         storage_->ReadSideFile(kUnconfirmedFile));
  if (!sealed.has_value()) return absl::OkStatus();
  HAVEN_ASSIGN_OR_RETURN(
      std::string plain,
      sealer_->Open(kUnconfirmedPlace, *sealed,
                    absl::StrCat("the side file haven-", kUnconfirmedFile)));
  v1::UnconfirmedCommit marker;
  if (!marker.ParseFromString(plain) ||
      marker.end_index() <= marker.first_index()) {
    return absl::DataLossError(absl::StrCat("the side file haven-",
                                            kUnconfirmedFile, " is malformed"));
  }
  const uint64_t size = Size();
  const std::string note = LatestCheckpoint().note();
  v1::AuditEntry entry;
  entry.set_kind(v1::WRITES_VOIDED);
  entry.set_agency_id(agency_id_);
  entry.set_principal("havend");
  entry.set_time_unix_nanos(clock_->NowUnixNanos());
  v1::VoidedEntries* voided = entry.mutable_voided();
  Action action;
  recovery_.unconfirmed_commit = true;
  if (size == marker.first_index()) {
    // The failed commit never reached the disk: nothing to undo.
    voided->set_first(size);
    voided->set_end(size);
    entry.set_detail(absl::StrCat(
        "a commit of entries ", marker.first_index(), "..",
        marker.end_index() - 1,
        " failed its sync and did not reach the disk; nothing was undone"));
  } else if (size == marker.end_index() && note == marker.checkpoint_note()) {
    HAVEN_ASSIGN_OR_RETURN(
        StateGuard::Undo undo,
        guard_->LoadUndo(marker.first_index(), marker.end_index()));
    voided->set_first(marker.first_index());
    voided->set_end(marker.end_index());
    for (uint64_t kept : undo.kept) voided->add_kept(kept);
    entry.set_detail(absl::StrCat(
        "entries ", marker.first_index(), "..", marker.end_index() - 1,
        " reached the disk although their commit failed its sync; their "
        "callers were told they failed, so their changes are undone",
        undo.kept.empty() ? ""
                          : " (erasures among them stay in effect: erased "
                            "data cannot be brought back)"));
    recovery_.kept = undo.kept;
    action.state = std::move(undo.restore);
  } else {
    return absl::DataLossError(absl::StrCat(
        "a commit of audit entries ", marker.first_index(), "..",
        marker.end_index() - 1,
        " failed before the last stop, but the log now has ", size,
        " entries and another checkpoint: the data dir was changed since. "
        "Restore it from a backup"));
  }
  recovery_.voided_first = voided->first();
  recovery_.voided_end = voided->end();
  action.entries.push_back(std::move(entry));
  HAVEN_RETURN_IF_ERROR(Commit(std::move(action)).status());
  return storage_->RemoveSideFile(kUnconfirmedFile);
}

std::string AuditLog::VerifierKey() const {
  absl::MutexLock lock(&mu_);
  return verifier_keys_.front();
}

std::vector<std::string> AuditLog::VerifierKeys() const {
  absl::MutexLock lock(&mu_);
  return verifier_keys_;
}

absl::StatusOr<client::CheckpointBody> AuditLog::VerifyOwnCheckpoint(
    absl::string_view note) const {
  std::optional<absl::Status> first_error;
  for (const std::string& vkey : VerifierKeys()) {
    absl::StatusOr<client::NoteVerifierKey> key =
        client::ParseVerifierKey(vkey);
    if (!key.ok()) return key.status();
    absl::StatusOr<client::CheckpointBody> body =
        client::VerifyCheckpoint(note, *key, origin_);
    if (body.ok()) return body;
    if (!first_error.has_value()) first_error = body.status();
  }
  return *first_error;
}

AuditLog::~AuditLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (committer_.joinable()) committer_.join();
  if (checkpoint_keeper_.joinable()) checkpoint_keeper_.join();
}

bool AuditLog::failed() const {
  absl::MutexLock lock(&mu_);
  return failed_;
}

void AuditLog::KeepCheckpointFile() {
  while (true) {
    std::string note;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return failed_ || committer_done_ || saved_note_ != checkpoint_.note();
      };
      mu_.Await(absl::Condition(&ready));
      if (failed_) return;
      if (saved_note_ == checkpoint_.note()) return;  // stopped, all saved
      note = checkpoint_.note();
    }
    // The slot not holding the newest saved checkpoint.
    saved_slot_ ^= 1;
    if (!WriteCheckpointSlot(saved_slot_, note).ok()) return;
    absl::MutexLock lock(&mu_);
    saved_note_ = std::move(note);
    // While commits keep coming, one save per interval is enough: each
    // save is a sync that competes with the commits' own.
    auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return failed_ || committer_done_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&stopping), kCheckpointSaveInterval);
  }
}

void AuditLog::RecordUnconfirmed(uint64_t first, uint64_t end,
                                 const std::string& note) {
  v1::UnconfirmedCommit marker;
  marker.set_first_index(first);
  marker.set_end_index(end);
  marker.set_checkpoint_note(note);
  marker.set_failed_unix(clock_->NowUnix());
  // If even this cannot be written the disk is gone; the storage has
  // stopped the node already, and the commit may come back at restart,
  // logged (never unlogged).
  (void)storage_->WriteSideFile(
      kUnconfirmedFile,
      sealer_->Seal(kUnconfirmedPlace, marker.SerializeAsString()));
}

std::string AuditLog::CanonicalLeaf(const v1::AuditEntry& entry) {
  return Deterministic(entry);
}

void AuditLog::CommitAsync(Action action, AppendDone done) {
  if (action.entries.empty()) {
    return done(absl::InvalidArgumentError("an action needs audit entries"));
  }
  Pending pending;
  pending.leaves.reserve(action.entries.size());
  for (const auto& e : action.entries)
    pending.leaves.push_back(CanonicalLeaf(e));
  pending.state = std::move(action.state);
  pending.done = std::move(done);
  Enqueue(std::move(pending));
}

absl::Status AuditLog::CommitState(storage::WriteBatch state) {
  if (state.empty()) return absl::OkStatus();
  Pending pending;
  pending.state = std::move(state);
  return Await<absl::StatusOr<uint64_t>>([&](AppendDone done) {
           pending.done = std::move(done);
           Enqueue(std::move(pending));
         })
      .status();
}

absl::StatusOr<uint64_t> AuditLog::SwitchSigningKey(KeySwitch change) {
  if (change.entry.kind() != v1::SIGNING_KEY_ROTATED || !change.install) {
    return absl::InvalidArgumentError(
        "a key switch needs its SIGNING_KEY_ROTATED entry and its key");
  }
  Pending pending;
  pending.key_switch = std::move(change.entry);
  pending.state = std::move(change.state);
  pending.install = std::move(change.install);
  return Await<absl::StatusOr<uint64_t>>([&](AppendDone done) {
    pending.done = std::move(done);
    Enqueue(std::move(pending));
  });
}

absl::StatusOr<uint64_t> AuditLog::Commit(Action action) {
  return Await<absl::StatusOr<uint64_t>>([&](AppendDone done) {
    CommitAsync(std::move(action), std::move(done));
  });
}

void AuditLog::AppendAsync(const v1::AuditEntry& entry, AppendDone done) {
  Action action;
  action.entries.push_back(entry);
  CommitAsync(std::move(action), std::move(done));
}

absl::StatusOr<uint64_t> AuditLog::Append(const v1::AuditEntry& entry) {
  return Await<absl::StatusOr<uint64_t>>(
      [&](AppendDone done) { AppendAsync(entry, std::move(done)); });
}

void AuditLog::AppendBatchAsync(const std::vector<v1::AuditEntry>& entries,
                                AppendDone done) {
  if (entries.empty()) {
    return done(absl::InvalidArgumentError("no audit entries to append"));
  }
  Action action;
  action.entries = entries;
  CommitAsync(std::move(action), std::move(done));
}

absl::StatusOr<uint64_t> AuditLog::AppendBatch(
    const std::vector<v1::AuditEntry>& entries) {
  return Await<absl::StatusOr<uint64_t>>(
      [&](AppendDone done) { AppendBatchAsync(entries, std::move(done)); });
}

void AuditLog::Enqueue(Pending pending) {
  {
    absl::MutexLock lock(&mu_);
    if (!failed_) {
      queue_.push_back(std::move(pending));
      return;
    }
  }
  pending.done(Unavailable());
}

bool AuditLog::HasWorkOrStopping() const {
  return stopping_ || !queue_.empty();
}

void AuditLog::CommitLoop() {
  while (true) {
    std::vector<Pending> batch;
    bool failed = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &AuditLog::HasWorkOrStopping));
      // Stopping commits what is queued first, so no caller waits forever.
      if (queue_.empty()) {
        committer_done_ = true;
        return;
      }
      failed = failed_;
      size_t leaf_count = 0;
      while (!queue_.empty()) {
        Pending& next = queue_.front();
        const size_t leaves =
            next.leaves.size() + (next.key_switch.has_value() ? 1 : 0);
        if (!failed && !batch.empty() && leaf_count + leaves > max_batch_) {
          break;
        }
        leaf_count += leaves;
        const bool ends_batch = next.key_switch.has_value();
        batch.push_back(std::move(next));
        queue_.pop_front();
        // A key switch's commit is the last its old key signs.
        if (ends_batch && !failed) break;
      }
    }
    if (failed) {
      for (Pending& p : batch) p.done(Unavailable());
      continue;
    }
    Commit(std::move(batch));
  }
}

std::string AuditLog::FrontierRoot(const Frontier& frontier) {
  if (frontier.empty()) return client::EmptyRoot();
  std::string root = frontier.back().hash;
  for (size_t i = frontier.size() - 1; i-- > 0;) {
    root = client::HashChildren(frontier[i].hash, root);
  }
  return root;
}

std::string AuditLog::SignCheckpoint(uint64_t size,
                                     const std::string& root) const {
  client::CheckpointBody body{origin_, size, root, {}};
  std::string text = client::FormatCheckpointBody(body);
  // The key id and the signature from one key, even across a rotation.
  crypto::Ed25519Signer::Signed sig = signer_->SignWithKey(text);
  const uint32_t key_id = client::NoteKeyId(
      origin_, std::string(sig.public_key.begin(), sig.public_key.end()));
  return absl::StrCat(
      text, "\n", client::FormatSignatureLine(origin_, key_id, sig.signature));
}

void AuditLog::Commit(std::vector<Pending> batch) {
  {
    absl::MutexLock lock(&mu_);
    committing_ = true;
  }
  uint64_t start;
  Frontier frontier;
  Snapshot(&start, &frontier);

  storage::WriteBatch writes;
  std::vector<StateGuard::ActionState> actions;
  actions.reserve(batch.size());
  std::vector<FrontierNode> upper_nodes;
  uint64_t index = start;
  std::vector<uint64_t> first_index;
  first_index.reserve(batch.size());
  storage::WriteBatch tree;
  for (Pending& p : batch) {
    first_index.push_back(index);
    if (p.key_switch.has_value()) {
      // The switch names the tree it completes; it is the batch's last leaf.
      p.key_switch->mutable_key_switch()->set_tree_size(index + 1);
      p.leaves.push_back(CanonicalLeaf(*p.key_switch));
    }
    actions.push_back({&p.state, index, static_cast<uint32_t>(p.leaves.size()),
                       /*irreversible=*/p.key_switch.has_value()});
    for (std::string& leaf : p.leaves) {
      std::string hash = client::HashLeaf(leaf);
      tree.Put(Family::kAudit, NodeKey(0, index), hash);
      tree.Put(Family::kAudit, LeafKey(index), std::move(leaf));
      frontier.push_back({0, index, std::move(hash)});
      while (frontier.size() >= 2 &&
             frontier[frontier.size() - 2].level == frontier.back().level) {
        FrontierNode right = std::move(frontier.back());
        frontier.pop_back();
        FrontierNode& left = frontier.back();
        left.hash = client::HashChildren(left.hash, right.hash);
        left.level += 1;
        left.index >>= 1;
        tree.Put(Family::kAudit, NodeKey(left.level, left.index), left.hash);
        if (left.level >= kCacheMinLevel) upper_nodes.push_back(left);
      }
      ++index;
    }
  }
  const uint64_t new_size = index;
  std::string root = FrontierRoot(frontier);
  // A group of state-only commits leaves the tree and its checkpoint as
  // they are.
  std::string note = new_size == start ? LatestCheckpoint().note()
                                       : SignCheckpoint(new_size, root);
  absl::StatusOr<std::string> digest =
      guard_->Prepare(actions, start, new_size, &writes);
  absl::Status written = digest.status();
  if (written.ok()) {
    if (new_size > start) {
      writes.Append(std::move(tree));
      writes.Put(Family::kAudit, std::string(kSizeKey), SizeValue(new_size));
      writes.Put(Family::kAudit, std::string(kCheckpointKey), note);
    }
    const auto write_start = std::chrono::steady_clock::now();
    written = storage_->Write(writes, sync_);
    if (commit_write_seconds_ != nullptr) {
      commit_write_seconds_->Observe(
          {}, std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                            write_start)
                  .count());
    }
  }
  if (written.ok()) {
    guard_->Adopt(*std::move(digest), new_size);
    for (const FrontierNode& n : upper_nodes) {
      CacheNode(n.level, n.index, n.hash);
    }
    absl::MutexLock lock(&mu_);
    size_ = new_size;
    frontier_ = std::move(frontier);
    checkpoint_.set_note(std::move(note));
    checkpoint_.set_origin(origin_);
    checkpoint_.set_tree_size(new_size);
    checkpoint_.set_root_hash(std::move(root));
    ++batches_;
    if (entries_appended_ != nullptr && new_size > start) {
      entries_appended_->Increment({}, static_cast<double>(new_size - start));
      commit_entries_->Observe({}, static_cast<double>(new_size - start));
    }
    // The switch is durable: from the next commit on, the new key signs.
    for (Pending& p : batch) {
      if (!p.key_switch.has_value()) continue;
      p.install();
      verifier_keys_.insert(verifier_keys_.begin(),
                            p.key_switch->key_switch().new_verifier_key());
    }
  } else {
    {
      absl::MutexLock lock(&mu_);
      failed_ = true;
    }
    // State-only commits change nothing anyone was told about.
    if (new_size > start) RecordUnconfirmed(start, new_size, note);
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (written.ok()) {
      batch[i].done(first_index[i]);
    } else {
      batch[i].done(Unavailable());
    }
  }
  absl::MutexLock lock(&mu_);
  committing_ = false;
}

bool AuditLog::AwaitCommitsSettled(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto settled = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !committing_;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&settled), timeout);
}

uint64_t AuditLog::Size() const {
  absl::MutexLock lock(&mu_);
  return size_;
}

v1::Checkpoint AuditLog::LatestCheckpoint() const {
  absl::MutexLock lock(&mu_);
  return checkpoint_;
}

int64_t AuditLog::batches() const {
  absl::MutexLock lock(&mu_);
  return batches_;
}

void AuditLog::Snapshot(uint64_t* size, Frontier* frontier) const {
  absl::MutexLock lock(&mu_);
  *size = size_;
  *frontier = frontier_;
}

absl::StatusOr<std::vector<v1::IndexedEntry>> AuditLog::GetEntries(
    uint64_t start, uint64_t count, size_t max_bytes) const {
  uint64_t size = Size();
  if (start > size) {
    return absl::OutOfRangeError(absl::StrCat("start index ", start,
                                              " is past the end of the log (",
                                              size, " entries)"));
  }
  uint64_t end = start + std::min({count, uint64_t{limits::kMaxEntriesPerRead},
                                   size - start});
  PageBudget budget(end - start, max_bytes);
  std::vector<v1::IndexedEntry> out;
  for (uint64_t i = start; i < end; ++i) {
    HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> leaf,
                           storage_->Get(Family::kAudit, LeafKey(i)));
    if (!leaf.has_value()) {
      return absl::DataLossError(
          absl::StrCat("audit log entry ", i, " is missing from storage"));
    }
    v1::IndexedEntry e;
    e.set_index(i);
    // A leaf that no longer parses is still returned byte for byte, so that
    // the auditor's hash check names it.
    e.mutable_entry()->ParseFromString(*leaf);
    e.set_leaf(std::move(*leaf));
    if (!budget.Take(e.ByteSizeLong())) break;
    out.push_back(std::move(e));
  }
  return out;
}

void AuditLog::CacheNode(int level, uint64_t index,
                         const std::string& hash) const {
  absl::MutexLock lock(&cache_mu_);
  size_t l = level - kCacheMinLevel;
  if (cache_.size() <= l) {
    cache_.resize(l + 1);
    cached_.resize(l + 1);
  }
  if (cached_[l].size() <= index) {
    size_t n = std::max<size_t>(index + 1, cached_[l].size() * 2);
    cached_[l].resize(n, false);
    cache_[l].resize(n * client::kSha256Size);
  }
  cache_[l].replace(index * client::kSha256Size, client::kSha256Size, hash);
  cached_[l][index] = true;
}

absl::StatusOr<std::string> AuditLog::ReadNode(int level,
                                               uint64_t index) const {
  if (level >= kCacheMinLevel) {
    absl::ReaderMutexLock lock(&cache_mu_);
    size_t l = level - kCacheMinLevel;
    if (l < cached_.size() && index < cached_[l].size() && cached_[l][index]) {
      return cache_[l].substr(index * client::kSha256Size, client::kSha256Size);
    }
  }
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> hash,
                         storage_->Get(Family::kAudit, NodeKey(level, index)));
  if (!hash.has_value() || hash->size() != client::kSha256Size) {
    return absl::DataLossError(absl::StrCat(
        "audit tree node (", level, ", ", index, ") is missing or malformed"));
  }
  if (level >= kCacheMinLevel) CacheNode(level, index, *hash);
  return *std::move(hash);
}

absl::StatusOr<std::string> AuditLog::SubtreeHash(
    uint64_t begin, uint64_t end, const Frontier& frontier) const {
  std::vector<std::string> parts;
  while (begin < end) {
    int level = std::bit_width(std::bit_floor(end - begin)) - 1;
    if (begin != 0) level = std::min(level, std::countr_zero(begin));
    uint64_t index = begin >> level;
    const FrontierNode* cached = nullptr;
    for (const FrontierNode& f : frontier) {
      if (f.level == level && f.index == index) cached = &f;
    }
    if (cached != nullptr) {
      parts.push_back(cached->hash);
    } else {
      HAVEN_ASSIGN_OR_RETURN(std::string hash, ReadNode(level, index));
      parts.push_back(std::move(hash));
    }
    begin += uint64_t{1} << level;
  }
  std::string root = std::move(parts.back());
  for (size_t i = parts.size() - 1; i-- > 0;) {
    root = client::HashChildren(parts[i], root);
  }
  return root;
}

absl::Status AuditLog::Path(uint64_t m, uint64_t begin, uint64_t end,
                            const Frontier& frontier,
                            std::vector<std::string>* out) const {
  uint64_t n = end - begin;
  if (n == 1) return absl::OkStatus();
  uint64_t k = client::SplitPoint(n);
  if (m < k) {
    HAVEN_RETURN_IF_ERROR(Path(m, begin, begin + k, frontier, out));
    HAVEN_ASSIGN_OR_RETURN(std::string h,
                           SubtreeHash(begin + k, end, frontier));
    out->push_back(std::move(h));
  } else {
    HAVEN_RETURN_IF_ERROR(Path(m - k, begin + k, end, frontier, out));
    HAVEN_ASSIGN_OR_RETURN(std::string h,
                           SubtreeHash(begin, begin + k, frontier));
    out->push_back(std::move(h));
  }
  return absl::OkStatus();
}

absl::Status AuditLog::SubProof(uint64_t m, uint64_t begin, uint64_t end,
                                bool whole, const Frontier& frontier,
                                std::vector<std::string>* out) const {
  uint64_t n = end - begin;
  if (m == n) {
    if (!whole) {
      HAVEN_ASSIGN_OR_RETURN(std::string h, SubtreeHash(begin, end, frontier));
      out->push_back(std::move(h));
    }
    return absl::OkStatus();
  }
  uint64_t k = client::SplitPoint(n);
  if (m <= k) {
    HAVEN_RETURN_IF_ERROR(SubProof(m, begin, begin + k, whole, frontier, out));
    HAVEN_ASSIGN_OR_RETURN(std::string h,
                           SubtreeHash(begin + k, end, frontier));
    out->push_back(std::move(h));
  } else {
    HAVEN_RETURN_IF_ERROR(
        SubProof(m - k, begin + k, end, false, frontier, out));
    HAVEN_ASSIGN_OR_RETURN(std::string h,
                           SubtreeHash(begin, begin + k, frontier));
    out->push_back(std::move(h));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::InclusionProof> AuditLog::InclusionProof(
    uint64_t index, uint64_t tree_size) const {
  uint64_t size;
  Frontier frontier;
  Snapshot(&size, &frontier);
  if (tree_size == 0) tree_size = size;
  if (index >= tree_size || tree_size > size) {
    return absl::InvalidArgumentError(
        absl::StrCat("inclusion proof needs leaf index < tree size <= ", size,
                     "; got index ", index, ", tree size ", tree_size));
  }
  v1::InclusionProof proof;
  proof.set_leaf_index(index);
  proof.set_tree_size(tree_size);
  HAVEN_ASSIGN_OR_RETURN(std::string leaf_hash, ReadNode(0, index));
  proof.set_leaf_hash(std::move(leaf_hash));
  std::vector<std::string> hashes;
  HAVEN_RETURN_IF_ERROR(Path(index, 0, tree_size, frontier, &hashes));
  for (std::string& h : hashes) proof.add_hashes(std::move(h));
  return proof;
}

absl::StatusOr<v1::ConsistencyProof> AuditLog::ConsistencyProof(
    uint64_t old_size, uint64_t new_size) const {
  uint64_t size;
  Frontier frontier;
  Snapshot(&size, &frontier);
  if (new_size == 0) new_size = size;
  if (old_size > new_size || new_size > size) {
    return absl::InvalidArgumentError(
        absl::StrCat("consistency proof needs old size <= new size <= ", size,
                     "; got ", old_size, " and ", new_size));
  }
  v1::ConsistencyProof proof;
  proof.set_old_size(old_size);
  proof.set_new_size(new_size);
  if (old_size == 0) {
    proof.set_old_root(client::EmptyRoot());
  } else {
    HAVEN_ASSIGN_OR_RETURN(std::string old_root,
                           SubtreeHash(0, old_size, frontier));
    proof.set_old_root(std::move(old_root));
  }
  if (old_size == 0 || old_size == new_size) return proof;
  std::vector<std::string> hashes;
  HAVEN_RETURN_IF_ERROR(
      SubProof(old_size, 0, new_size, true, frontier, &hashes));
  for (std::string& h : hashes) proof.add_hashes(std::move(h));
  return proof;
}

absl::StatusOr<std::string> AuditLog::RootAt(uint64_t tree_size) const {
  uint64_t size;
  Frontier frontier;
  Snapshot(&size, &frontier);
  if (tree_size > size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tree size ", tree_size, " is larger than the log (", size, ")"));
  }
  if (tree_size == 0) return client::EmptyRoot();
  return SubtreeHash(0, tree_size, frontier);
}

}  // namespace haven::server::audit
