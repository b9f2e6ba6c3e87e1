#include "server/audit/audit_log.h"

#include <algorithm>
#include <bit>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/verify/crypto.h"
#include "client/verify/merkle.h"
#include "client/verify/signed_note.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "haven/base/await.h"
#include "haven/base/status_macros.h"

namespace haven::server::audit {
namespace {

constexpr uint64_t kMaxEntriesPerRead = 1000;
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

AuditLog::AuditLog(Options options, std::string verifier_key)
    : origin_(std::move(options.origin)),
      signer_(options.signer),
      store_(options.store),
      sync_(options.sync),
      max_batch_(std::max<size_t>(1, options.max_batch)),
      verifier_key_(std::move(verifier_key)),
      key_id_(client::NoteKeyId(
          origin_, absl::string_view(reinterpret_cast<const char*>(
                                         signer_->public_key().data()),
                                     signer_->public_key().size()))) {}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(Options options) {
  if (options.signer == nullptr || options.store == nullptr) {
    return absl::InvalidArgumentError("audit log needs a signer and a store");
  }
  std::string public_key(options.signer->public_key().begin(),
                         options.signer->public_key().end());
  absl::StatusOr<std::string> vkey =
      client::FormatVerifierKey(options.origin, public_key);
  if (!vkey.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "audit log origin \"", options.origin,
        "\" cannot name a signed-note key: ", vkey.status().message()));
  }
  std::unique_ptr<AuditLog> log(new AuditLog(std::move(options), *vkey));

  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> size_value,
                         log->store_->Get(kSizeKey));
  HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> note,
                         log->store_->Get(kCheckpointKey));
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
    absl::StatusOr<client::NoteVerifierKey> key =
        client::ParseVerifierKey(log->verifier_key_);
    if (!key.ok()) return key.status();
    absl::StatusOr<client::CheckpointBody> body =
        client::VerifyCheckpoint(*note, *key, log->origin_);
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

  {
    absl::MutexLock lock(&log->mu_);
    log->size_ = size;
    log->frontier_ = std::move(frontier);
    log->checkpoint_ = std::move(checkpoint);
  }
  AuditLog* raw = log.get();
  log->committer_ = std::thread([raw] { raw->CommitLoop(); });
  return log;
}

AuditLog::~AuditLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (committer_.joinable()) committer_.join();
}

std::string AuditLog::CanonicalLeaf(const v1::AuditEntry& entry) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    entry.SerializeToCodedStream(&coded);
  }
  return out;
}

void AuditLog::AppendAsync(const v1::AuditEntry& entry, AppendDone done) {
  std::vector<std::string> leaves;
  leaves.push_back(CanonicalLeaf(entry));
  Enqueue(std::move(leaves), std::move(done));
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
  std::vector<std::string> leaves;
  leaves.reserve(entries.size());
  for (const auto& e : entries) leaves.push_back(CanonicalLeaf(e));
  Enqueue(std::move(leaves), std::move(done));
}

absl::StatusOr<uint64_t> AuditLog::AppendBatch(
    const std::vector<v1::AuditEntry>& entries) {
  return Await<absl::StatusOr<uint64_t>>(
      [&](AppendDone done) { AppendBatchAsync(entries, std::move(done)); });
}

void AuditLog::Enqueue(std::vector<std::string> leaves, AppendDone done) {
  absl::MutexLock lock(&mu_);
  queue_.push_back({std::move(leaves), std::move(done)});
}

bool AuditLog::HasWorkOrStopping() const {
  return stopping_ || !queue_.empty();
}

void AuditLog::CommitLoop() {
  while (true) {
    std::vector<Pending> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &AuditLog::HasWorkOrStopping));
      // Stopping commits what is queued first, so no caller waits forever.
      if (queue_.empty()) return;
      size_t leaf_count = 0;
      while (!queue_.empty()) {
        Pending& next = queue_.front();
        if (!batch.empty() && leaf_count + next.leaves.size() > max_batch_) {
          break;
        }
        leaf_count += next.leaves.size();
        batch.push_back(std::move(next));
        queue_.pop_front();
      }
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
  return absl::StrCat(text, "\n",
                      client::FormatSignatureLine(origin_, key_id_,
                                                  signer_->SignToString(text)));
}

void AuditLog::Commit(std::vector<Pending> batch) {
  uint64_t start;
  Frontier frontier;
  Snapshot(&start, &frontier);

  size_t leaf_count = 0;
  for (const Pending& p : batch) leaf_count += p.leaves.size();
  AuditStore::KeyValues puts;
  puts.reserve(leaf_count * 3 + 2);
  std::vector<FrontierNode> upper_nodes;
  uint64_t index = start;
  std::vector<uint64_t> first_index;
  first_index.reserve(batch.size());
  for (Pending& p : batch) {
    first_index.push_back(index);
    for (std::string& leaf : p.leaves) {
      std::string hash = client::HashLeaf(leaf);
      puts.emplace_back(NodeKey(0, index), hash);
      puts.emplace_back(LeafKey(index), std::move(leaf));
      frontier.push_back({0, index, std::move(hash)});
      while (frontier.size() >= 2 &&
             frontier[frontier.size() - 2].level == frontier.back().level) {
        FrontierNode right = std::move(frontier.back());
        frontier.pop_back();
        FrontierNode& left = frontier.back();
        left.hash = client::HashChildren(left.hash, right.hash);
        left.level += 1;
        left.index >>= 1;
        puts.emplace_back(NodeKey(left.level, left.index), left.hash);
        if (left.level >= kCacheMinLevel) upper_nodes.push_back(left);
      }
      ++index;
    }
  }
  const uint64_t new_size = index;
  std::string root = FrontierRoot(frontier);
  std::string note = SignCheckpoint(new_size, root);
  puts.emplace_back(std::string(kSizeKey), SizeValue(new_size));
  puts.emplace_back(std::string(kCheckpointKey), note);
  absl::Status written = store_->Write(puts, sync_);
  if (written.ok()) {
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
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (written.ok()) {
      batch[i].done(first_index[i]);
    } else {
      batch[i].done(Unavailable());
    }
  }
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
    uint64_t start, uint64_t count) const {
  uint64_t size = Size();
  if (start > size) {
    return absl::OutOfRangeError(absl::StrCat("start index ", start,
                                              " is past the end of the log (",
                                              size, " entries)"));
  }
  uint64_t end = start + std::min({count, kMaxEntriesPerRead, size - start});
  std::vector<v1::IndexedEntry> out;
  out.reserve(end - start);
  for (uint64_t i = start; i < end; ++i) {
    HAVEN_ASSIGN_OR_RETURN(std::optional<std::string> leaf,
                           store_->Get(LeafKey(i)));
    if (!leaf.has_value()) {
      return absl::DataLossError(
          absl::StrCat("audit log entry ", i, " is missing from storage"));
    }
    v1::IndexedEntry& e = out.emplace_back();
    e.set_index(i);
    // A leaf that no longer parses is still returned byte for byte, so that
    // the auditor's hash check names it.
    e.mutable_entry()->ParseFromString(*leaf);
    e.set_leaf(std::move(*leaf));
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
                         store_->Get(NodeKey(level, index)));
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
