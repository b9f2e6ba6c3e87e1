#include "server/audit/audit_log.h"

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/verify/log_replay.h"
#include "client/verify/merkle.h"
#include "client/verify/signed_note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/base/limits.h"
#include "server/crypto/ed25519_signer.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_log.h"

namespace haven::server::audit {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::string_view kOrigin = "agency-a.haven/log";

v1::AuditEntry Entry(int i) {
  v1::AuditEntry e;
  e.set_kind(v1::DISCLOSURE);
  e.set_time_unix_nanos(1'700'000'000'000'000'000 + i);
  e.set_agency_id("agency-b");
  e.set_principal(absl::StrCat("caseworker-", i % 7));
  e.set_subject_pseudonym(std::string(64, 'a' + i % 6));
  e.set_request_id(absl::StrCat("req-", i));
  e.add_consent_ids("consent-1");
  return e;
}

std::string LeafKey(uint64_t index) {
  std::string key(1, 'L');
  for (int shift = 56; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>(index >> shift));
  }
  return key;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = haven::testing::TestLog::Create("agency-a");
    ASSERT_THAT(log, IsOk());
    t_ = *std::move(log);
    log_ = &t_->log();
  }

  // What a restarted node finds: the log reopened over the storage a crash
  // (unsynced dropped) or a failed-but-written sync (kept) leaves.
  absl::Status Restart(
      haven::testing::FaultInjectingStorage::Unsynced unsynced =
          haven::testing::FaultInjectingStorage::Unsynced::kDrop) {
    log_ = nullptr;
    absl::Status s = t_->Restart(unsynced);
    if (s.ok()) log_ = &t_->log();
    return s;
  }
  haven::testing::FaultInjectingStorage& storage() { return t_->storage(); }

  std::vector<std::string> AllLeaves() {
    std::vector<std::string> leaves;
    uint64_t size = log_->Size();
    // Continues from what each read returned: reads are bounded by bytes.
    while (leaves.size() < size) {
      auto entries = log_->GetEntries(leaves.size(), 1000);
      EXPECT_THAT(entries, IsOk());
      if (!entries.ok() || entries->empty()) break;
      for (const auto& e : *entries) leaves.push_back(e.leaf());
    }
    return leaves;
  }

  client::InclusionProofSource ProofsFromLog() {
    return [this](uint64_t index,
                  uint64_t size) -> absl::StatusOr<std::vector<std::string>> {
      auto proof = log_->InclusionProof(index, size);
      if (!proof.ok()) return proof.status();
      return std::vector<std::string>(proof->hashes().begin(),
                                      proof->hashes().end());
    };
  }

  absl::StatusOr<client::CheckpointBody> Replay(
      std::optional<std::string> trusted) {
    client::ReplayInput in;
    in.leaves = AllLeaves();
    in.checkpoint_note = log_->LatestCheckpoint().note();
    in.verifier_key = log_->VerifierKey();
    in.origin = std::string(kOrigin);
    in.trusted_checkpoint_note = std::move(trusted);
    in.inclusion_proof = ProofsFromLog();
    return client::VerifyLogReplay(in);
  }

  v1::AuditEntry EntryAt(uint64_t index) {
    auto entries = log_->GetEntries(index, 1);
    EXPECT_THAT(entries, IsOk());
    return entries.ok() && !entries->empty() ? (*entries)[0].entry()
                                             : v1::AuditEntry();
  }

  std::unique_ptr<haven::testing::TestLog> t_;
  AuditLog* log_ = nullptr;
};

TEST_F(AuditLogTest, NewLogHasSignedEmptyCheckpoint) {
  EXPECT_EQ(log_->Size(), 0u);
  auto key = client::ParseVerifierKey(log_->VerifierKey());
  ASSERT_THAT(key, IsOk());
  auto body =
      client::VerifyCheckpoint(log_->LatestCheckpoint().note(), *key, kOrigin);
  ASSERT_THAT(body, IsOk());
  EXPECT_EQ(body->tree_size, 0u);
  EXPECT_EQ(body->root_hash, client::EmptyRoot());
}

TEST_F(AuditLogTest, AppendReturnsConsecutiveIndicesUnderSignedCheckpoint) {
  for (int i = 0; i < 5; ++i) {
    auto index = log_->Append(Entry(i));
    ASSERT_THAT(index, IsOk());
    EXPECT_EQ(*index, static_cast<uint64_t>(i));
  }
  auto first = log_->AppendBatch({Entry(5), Entry(6), Entry(7)});
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(*first, 5u);
  v1::Checkpoint cp = log_->LatestCheckpoint();
  EXPECT_EQ(cp.tree_size(), 8u);
  EXPECT_THAT(cp.note(), ::testing::StartsWith(absl::StrCat(kOrigin, "\n8\n")));
  auto body = Replay(std::nullopt);
  ASSERT_THAT(body, IsOk());
  EXPECT_EQ(body->root_hash, cp.root_hash());
  auto entries = log_->GetEntries(6, 10);
  ASSERT_THAT(entries, IsOk());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].entry().request_id(), "req-6");
  EXPECT_EQ((*entries)[0].leaf(), AuditLog::CanonicalLeaf(Entry(6)));
}

// What one read would put on the wire.
size_t WireBytes(const std::vector<v1::IndexedEntry>& entries) {
  v1::GetEntriesResponse response;
  for (const auto& e : entries) *response.add_entries() = e;
  return response.ByteSizeLong();
}

TEST_F(AuditLogTest, ReadsAreBoundedByCountAndBytes) {
  // 1500 small entries: a read gives at most 1000, however many are asked.
  std::vector<v1::AuditEntry> small;
  for (int i = 0; i < 1500; ++i) small.push_back(Entry(i));
  ASSERT_THAT(log_->AppendBatch(small), IsOk());
  auto entries = log_->GetEntries(0, 5000);
  ASSERT_THAT(entries, IsOk());
  ASSERT_EQ(entries->size(), 1000u);
  EXPECT_EQ(entries->back().index(), 999u);

  // Then five entries of 300 KiB each (600 KiB and more as read: the leaf
  // and the parsed entry), and one of 1.5 MiB.
  for (int i = 0; i < 5; ++i) {
    v1::AuditEntry big = Entry(1500 + i);
    big.set_detail(std::string(300 << 10, 'd'));
    ASSERT_THAT(log_->Append(big), IsOk());
  }
  v1::AuditEntry huge = Entry(1505);
  huge.set_detail(std::string(3 << 19, 'h'));
  ASSERT_THAT(log_->Append(huge), IsOk());
  ASSERT_EQ(log_->Size(), 1506u);

  // A reader that continues from what each read returned gets every entry
  // in order, no read past kMaxReadBytes unless it holds one entry alone.
  uint64_t next = 1400;
  int reads = 0;
  while (next < log_->Size() && reads++ < 100) {
    entries = log_->GetEntries(next, 1000);
    ASSERT_THAT(entries, IsOk());
    ASSERT_FALSE(entries->empty());
    for (const auto& e : *entries) EXPECT_EQ(e.index(), next++);
    if (entries->size() > 1) {
      EXPECT_LE(WireBytes(*entries), limits::kMaxReadBytes);
    }
  }
  EXPECT_EQ(next, 1506u);
  // 100 small and one big; then one big each (two would pass 1 MiB);
  // then the huge one alone.
  EXPECT_EQ(reads, 6);
  entries = log_->GetEntries(1505, 1000);
  ASSERT_THAT(entries, IsOk());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].entry().detail(), huge.detail());

  // A smaller budget, as a caller may pass: still one entry at least.
  entries = log_->GetEntries(0, 1000, /*max_bytes=*/1);
  ASSERT_THAT(entries, IsOk());
  EXPECT_EQ(entries->size(), 1u);
  entries = log_->GetEntries(0, 1000, /*max_bytes=*/10 << 10);
  ASSERT_THAT(entries, IsOk());
  EXPECT_GT(entries->size(), 1u);
  EXPECT_LE(WireBytes(*entries), size_t{10 << 10});
}

TEST_F(AuditLogTest, RootsAndProofsAgreeWithClientVerify) {
  std::vector<std::string> hashes;
  std::vector<std::string> roots = {client::EmptyRoot()};
  for (int i = 0; i < 37; ++i) {
    ASSERT_THAT(log_->Append(Entry(i)), IsOk());
    hashes.push_back(client::HashLeaf(AuditLog::CanonicalLeaf(Entry(i))));
    roots.push_back(client::RootFromLeafHashes(hashes));
    EXPECT_EQ(log_->LatestCheckpoint().root_hash(), roots.back());
  }
  for (uint64_t size = 1; size <= 37; ++size) {
    auto root = log_->RootAt(size);
    ASSERT_THAT(root, IsOk());
    EXPECT_EQ(*root, roots[size]);
    for (uint64_t index = 0; index < size; ++index) {
      auto proof = log_->InclusionProof(index, size);
      ASSERT_THAT(proof, IsOk());
      std::vector<std::string> path(proof->hashes().begin(),
                                    proof->hashes().end());
      EXPECT_EQ(proof->leaf_hash(), hashes[index]);
      EXPECT_EQ(path,
                *client::InclusionProofFromLeafHashes(hashes, index, size));
      EXPECT_THAT(client::VerifyInclusion(index, size, hashes[index], path,
                                          roots[size]),
                  IsOk())
          << index << "/" << size;
    }
    for (uint64_t old_size = 0; old_size <= size; ++old_size) {
      auto proof = log_->ConsistencyProof(old_size, size);
      ASSERT_THAT(proof, IsOk());
      EXPECT_EQ(proof->old_root(), roots[old_size]);
      std::vector<std::string> path(proof->hashes().begin(),
                                    proof->hashes().end());
      EXPECT_THAT(client::VerifyConsistency(old_size, size, path,
                                            roots[old_size], roots[size]),
                  IsOk())
          << old_size << "->" << size;
    }
  }
  EXPECT_THAT(log_->InclusionProof(37, 37),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log_->ConsistencyProof(5, 38),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// A failed write stops the log (fail-stop): the append and every later one
// fail, nothing advances, and the next start records that the commit
// failed without reaching the disk.
TEST_F(AuditLogTest, FailedWriteStopsTheLogAndTheRestartSaysSo) {
  ASSERT_THAT(log_->Append(Entry(0)), IsOk());
  v1::Checkpoint before = log_->LatestCheckpoint();
  storage().FailWriteAt(storage().writes());
  auto failed = log_->Append(Entry(1));
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(failed.status().message(),
            "audit log unavailable; operation not performed");
  EXPECT_TRUE(log_->failed());
  EXPECT_TRUE(storage().stopped());
  EXPECT_EQ(log_->Size(), 1u);
  EXPECT_EQ(log_->LatestCheckpoint().note(), before.note());
  EXPECT_THAT(log_->Append(Entry(2)),
              StatusIs(absl::StatusCode::kUnavailable));  // never retried

  ASSERT_THAT(Restart(), IsOk());
  EXPECT_TRUE(log_->recovery().unconfirmed_commit);
  EXPECT_EQ(log_->recovery().voided_first, 1u);
  EXPECT_EQ(log_->recovery().voided_end, 1u);
  ASSERT_EQ(log_->Size(), 2u);  // index 1 now says what happened
  v1::AuditEntry note = EntryAt(1);
  EXPECT_EQ(note.kind(), v1::WRITES_VOIDED);
  EXPECT_THAT(note.detail(), HasSubstr("did not reach the disk"));
  EXPECT_THAT(Replay(before.note()), IsOk());
  EXPECT_THAT(log_->Append(Entry(3)), IsOk());
}

// The worst case of a failed sync: the bytes reached the disk after all.
// The entries stay in the log (an index is never reused), the state the
// commit changed is undone, and a WRITES_VOIDED entry says which entries
// are void.
TEST_F(AuditLogTest, FailedSyncWhoseBytesSurviveIsVoidedWithItsState) {
  ASSERT_THAT(log_->AppendBatch({Entry(0), Entry(1), Entry(2)}), IsOk());
  storage::WriteBatch earlier;
  earlier.Put(storage::Family::kConsent, "x", t_->sealer().Seal("p", "old"));
  ASSERT_THAT(log_->CommitState(std::move(earlier)), IsOk());
  const std::string old_x = **storage().Get(storage::Family::kConsent, "x");
  v1::Checkpoint before = log_->LatestCheckpoint();

  Action action;
  action.entries = {Entry(3), Entry(4)};
  action.state.Put(storage::Family::kConsent, "x",
                   t_->sealer().Seal("p", "new"));
  action.state.Put(storage::Family::kConsent, "y",
                   t_->sealer().Seal("p", "added"));
  storage().FailSyncAt(storage().writes());
  EXPECT_THAT(log_->Commit(std::move(action)),
              StatusIs(absl::StatusCode::kUnavailable));
  // Not visible while the node runs on.
  EXPECT_EQ(**storage().Get(storage::Family::kConsent, "x"), old_x);

  ASSERT_THAT(Restart(haven::testing::FaultInjectingStorage::Unsynced::kKeep),
              IsOk());
  EXPECT_EQ(log_->recovery().voided_first, 3u);
  EXPECT_EQ(log_->recovery().voided_end, 5u);
  ASSERT_EQ(log_->Size(), 6u);
  EXPECT_EQ(EntryAt(3).request_id(), "req-3");  // kept, but void
  v1::AuditEntry voided = EntryAt(5);
  EXPECT_EQ(voided.kind(), v1::WRITES_VOIDED);
  EXPECT_EQ(voided.voided().first(), 3u);
  EXPECT_EQ(voided.voided().end(), 5u);
  EXPECT_EQ(**storage().Get(storage::Family::kConsent, "x"), old_x);
  EXPECT_FALSE(storage().Get(storage::Family::kConsent, "y")->has_value());
  EXPECT_THAT(Replay(before.note()), IsOk());

  // And the state check holds at the next start.
  ASSERT_THAT(Restart(), IsOk());
  EXPECT_FALSE(log_->recovery().unconfirmed_commit);
}

TEST_F(AuditLogTest, FailedSyncWhoseBytesAreLostLeavesNothing) {
  ASSERT_THAT(log_->Append(Entry(0)), IsOk());
  Action action;
  action.entries = {Entry(1)};
  action.state.Put(storage::Family::kConsent, "y",
                   t_->sealer().Seal("p", "added"));
  storage().FailSyncAt(storage().writes());
  EXPECT_THAT(log_->Commit(std::move(action)),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_THAT(Restart(haven::testing::FaultInjectingStorage::Unsynced::kDrop),
              IsOk());
  ASSERT_EQ(log_->Size(), 2u);
  EXPECT_EQ(EntryAt(1).kind(), v1::WRITES_VOIDED);
  EXPECT_FALSE(storage().Get(storage::Family::kConsent, "y")->has_value());
}

// A write that fails after the process died (crash) leaves no word: the
// restart finds the log as it was before it.
TEST_F(AuditLogTest, CrashAtACommitLosesOnlyThatCommit) {
  ASSERT_THAT(log_->Append(Entry(0)), IsOk());
  storage().CrashAt(storage().writes());
  EXPECT_THAT(log_->Append(Entry(1)), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_THAT(Restart(), IsOk());
  EXPECT_EQ(log_->Size(), 1u);
  EXPECT_FALSE(log_->recovery().unconfirmed_commit);
  auto index = log_->Append(Entry(2));
  ASSERT_THAT(index, IsOk());
  EXPECT_EQ(*index, 1u);
}

// Acknowledged commits lost from the write-ahead log (a cut or damaged
// tail) are caught at start by the checkpoint kept beside the database.
TEST_F(AuditLogTest, LostLogTailIsDetectedAtStartNotReused) {
  for (int i = 0; i < 5; ++i) ASSERT_THAT(log_->Append(Entry(i)), IsOk());
  const size_t records = storage().wal_records();
  for (int i = 5; i < 8; ++i) ASSERT_THAT(log_->Append(Entry(i)), IsOk());
  t_->Close();  // the checkpoint file has caught up with every commit
  storage().TruncateWal(records);
  absl::Status restarted = Restart();
  EXPECT_THAT(restarted, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(restarted.message(), HasSubstr("signed a checkpoint of 8"));
  EXPECT_THAT(restarted.message(), HasSubstr("holds only 5"));
}

TEST_F(AuditLogTest, DamagedLogRecordIsDetectedAtStart) {
  for (int i = 0; i < 5; ++i) ASSERT_THAT(log_->Append(Entry(i)), IsOk());
  const size_t records = storage().wal_records();
  for (int i = 5; i < 8; ++i) ASSERT_THAT(log_->Append(Entry(i)), IsOk());
  t_->Close();
  storage().CorruptWalRecord(records + 1);
  EXPECT_THAT(Restart(), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(AuditLogTest, MissingCheckpointFileIsDetectedAtStart) {
  ASSERT_THAT(log_->Append(Entry(0)), IsOk());
  t_->Close();
  ASSERT_THAT(storage().RemoveSideFile("checkpoint"), IsOk());
  absl::Status restarted = Restart();
  EXPECT_THAT(restarted, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(restarted.message(), HasSubstr("haven-checkpoint"));
}

TEST_F(AuditLogTest, ConcurrentAppendsAreGroupCommitted) {
  constexpr int kThreads = 64;
  constexpr int kPerThread = 20;
  absl::Mutex mu;
  std::vector<uint64_t> indices;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto index = log_->Append(Entry(t * kPerThread + i));
        ASSERT_THAT(index, IsOk());
        absl::MutexLock lock(&mu);
        indices.push_back(*index);
      }
    });
  }
  for (auto& t : threads) t.join();
  constexpr uint64_t kTotal = kThreads * kPerThread;
  ASSERT_EQ(indices.size(), kTotal);
  std::set<uint64_t> distinct(indices.begin(), indices.end());
  EXPECT_EQ(distinct.size(), kTotal);
  EXPECT_EQ(*distinct.rbegin(), kTotal - 1);
  EXPECT_EQ(log_->Size(), kTotal);
  EXPECT_LT(storage().syncs(), static_cast<int64_t>(kTotal));
  EXPECT_EQ(storage().syncs(), log_->batches());
  EXPECT_THAT(Replay(std::nullopt), IsOk());
}

TEST_F(AuditLogTest, ReopenKeepsTreeAndContinues) {
  ASSERT_THAT(
      log_->AppendBatch({Entry(0), Entry(1), Entry(2), Entry(3), Entry(4)}),
      IsOk());
  v1::Checkpoint before = log_->LatestCheckpoint();
  ASSERT_THAT(Restart(), IsOk());
  EXPECT_EQ(log_->Size(), 5u);
  EXPECT_EQ(log_->LatestCheckpoint().note(), before.note());
  auto index = log_->Append(Entry(5));
  ASSERT_THAT(index, IsOk());
  EXPECT_EQ(*index, 5u);
  EXPECT_THAT(Replay(before.note()), IsOk());
}

TEST_F(AuditLogTest, FlippedByteInANewLeafIsNamedAtStart) {
  for (int i = 0; i < 20; ++i) ASSERT_THAT(log_->Append(Entry(i)), IsOk());
  t_->Close();
  std::string leaf = **storage().Get(storage::Family::kAudit, LeafKey(11));
  leaf[leaf.size() / 2] ^= 0x01;
  storage().Tamper(storage::Family::kAudit, LeafKey(11), leaf);
  absl::Status restarted = Restart();
  EXPECT_THAT(restarted, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(restarted.message(), HasSubstr("entry 11 "));
}

TEST_F(AuditLogTest, FlippedByteInStoredLeafIsNamedByReplay) {
  for (int i = 0; i < 20; ++i) ASSERT_THAT(log_->Append(Entry(i)), IsOk());
  std::string trusted = log_->LatestCheckpoint().note();
  // An auditor reading a leaf that was altered (here, as served) finds it.
  std::vector<std::string> leaves = AllLeaves();
  leaves[11][leaves[11].size() / 2] ^= 0x01;
  client::ReplayInput in;
  in.leaves = leaves;
  in.checkpoint_note = log_->LatestCheckpoint().note();
  in.verifier_key = log_->VerifierKey();
  in.origin = std::string(kOrigin);
  in.trusted_checkpoint_note = trusted;
  in.inclusion_proof = ProofsFromLog();
  auto result = client::VerifyLogReplay(in);
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(result.status().message(), HasSubstr("leaf 11 "));
}

TEST_F(AuditLogTest, DroppedTailWithOldCheckpointIsCaughtAtStart) {
  for (int i = 0; i < 12; ++i) ASSERT_THAT(log_->Append(Entry(i)), IsOk());
  std::string old_note = log_->LatestCheckpoint().note();
  for (int i = 12; i < 20; ++i) ASSERT_THAT(log_->Append(Entry(i)), IsOk());
  t_->Close();
  // An operator removes the last 8 entries and puts back the checkpoint
  // the node once signed for 12; nothing is re-signed.
  for (uint64_t i = 12; i < 20; ++i) {
    storage().Tamper(storage::Family::kAudit, LeafKey(i), std::nullopt);
  }
  std::string size(8, '\0');
  size[7] = 12;
  storage().Tamper(storage::Family::kAudit, "S", size);
  storage().Tamper(storage::Family::kAudit, "C", old_note);
  absl::Status restarted = Restart();
  EXPECT_THAT(restarted, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(restarted.message(), HasSubstr("holds only 12"));
}

TEST_F(AuditLogTest, DroppedTailWithoutResigningFailsOpen) {
  for (int i = 0; i < 20; ++i) ASSERT_THAT(log_->Append(Entry(i)), IsOk());
  t_->Close();
  std::string size(8, '\0');
  size[7] = 15;
  storage().Tamper(storage::Family::kAudit, "S", size);
  EXPECT_THAT(Restart(), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(AuditLogTest, OpenWithAnotherKeyFails) {
  ASSERT_THAT(log_->Append(Entry(0)), IsOk());
  auto other = crypto::Ed25519Signer::FromSeed(crypto::SecretBytes::Random(32));
  ASSERT_THAT(other, IsOk());
  AuditLog::Options options;
  options.origin = std::string(kOrigin);
  options.agency_id = "agency-a";
  options.signer = other->get();
  options.sealer = &t_->sealer();
  options.storage = &storage();
  options.clock = &t_->clock();
  EXPECT_THAT(AuditLog::Open(options), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(AuditLogTest, InvalidOriginIsRejected) {
  AuditLog::Options options;
  options.origin = "has space";
  options.signer = &t_->signer();
  options.sealer = &t_->sealer();
  options.storage = &storage();
  options.clock = &t_->clock();
  EXPECT_THAT(AuditLog::Open(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace haven::server::audit
