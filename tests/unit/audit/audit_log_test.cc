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
#include "rocksdb/write_batch.h"
#include "server/audit/audit_store.h"
#include "server/crypto/ed25519_signer.h"
#include "server/storage/database.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace haven::server::audit {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::string_view kOrigin = "agency-a.haven.example/log";

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
    auto signer =
        crypto::Ed25519Signer::FromSeed(crypto::SecretBytes::Random(32));
    ASSERT_THAT(signer, IsOk());
    signer_ = *std::move(signer);
    OpenAll();
  }

  void OpenAll() {
    auto db = storage::Database::Open({dir_.Join("db"), true, {}});
    ASSERT_THAT(db, IsOk());
    db_ = *std::move(db);
    store_ = std::make_unique<RocksDbAuditStore>(db_.get());
    faulty_ = std::make_unique<FaultInjectingAuditStore>(store_.get());
    auto log = OpenLog();
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
  }

  absl::StatusOr<std::unique_ptr<AuditLog>> OpenLog() {
    return AuditLog::Open({std::string(kOrigin), signer_.get(), faulty_.get()});
  }

  void CloseAll() {
    log_.reset();
    faulty_.reset();
    store_.reset();
    db_.reset();
  }

  std::vector<std::string> AllLeaves() {
    std::vector<std::string> leaves;
    uint64_t size = log_->Size();
    for (uint64_t start = 0; start < size; start += 1000) {
      auto entries = log_->GetEntries(start, 1000);
      EXPECT_THAT(entries, IsOk());
      if (!entries.ok()) break;
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

  haven::testing::TempDir dir_;
  std::unique_ptr<crypto::Ed25519Signer> signer_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<RocksDbAuditStore> store_;
  std::unique_ptr<FaultInjectingAuditStore> faulty_;
  std::unique_ptr<AuditLog> log_;
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

TEST_F(AuditLogTest, FailedWriteReturnsUnavailableAndDoesNotAdvance) {
  ASSERT_THAT(log_->Append(Entry(0)), IsOk());
  v1::Checkpoint before = log_->LatestCheckpoint();
  faulty_->set_fail_writes(true);
  auto failed = log_->Append(Entry(1));
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(failed.status().message(),
            "audit log unavailable; operation not performed");
  EXPECT_EQ(log_->Size(), 1u);
  EXPECT_EQ(log_->LatestCheckpoint().note(), before.note());
  EXPECT_THAT(log_->InclusionProof(1, 2),
              StatusIs(absl::StatusCode::kInvalidArgument));

  faulty_->set_fail_writes(false);
  auto retried = log_->Append(Entry(2));
  ASSERT_THAT(retried, IsOk());
  EXPECT_EQ(*retried, 1u);
  EXPECT_THAT(Replay(before.note()), IsOk());
}

TEST_F(AuditLogTest, FailedSyncReturnsUnavailableAndLaterAppendsOverwrite) {
  ASSERT_THAT(log_->AppendBatch({Entry(0), Entry(1), Entry(2)}), IsOk());
  v1::Checkpoint before = log_->LatestCheckpoint();
  faulty_->set_fail_syncs(true);
  EXPECT_THAT(log_->AppendBatch({Entry(3), Entry(4)}),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(log_->Size(), 3u);
  EXPECT_EQ(log_->LatestCheckpoint().note(), before.note());
  faulty_->set_fail_syncs(false);
  auto index = log_->Append(Entry(9));
  ASSERT_THAT(index, IsOk());
  EXPECT_EQ(*index, 3u);
  auto entries = log_->GetEntries(3, 1);
  ASSERT_THAT(entries, IsOk());
  EXPECT_EQ((*entries)[0].entry().request_id(), "req-9");
  EXPECT_THAT(Replay(before.note()), IsOk());

  // The log reopens cleanly from what is on disk.
  CloseAll();
  OpenAll();
  EXPECT_EQ(log_->Size(), 4u);
  EXPECT_THAT(Replay(before.note()), IsOk());
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
  EXPECT_LT(faulty_->syncs(), static_cast<int64_t>(kTotal));
  EXPECT_EQ(faulty_->syncs(), log_->batches());
  EXPECT_THAT(Replay(std::nullopt), IsOk());
}

TEST_F(AuditLogTest, ReopenKeepsTreeAndContinues) {
  ASSERT_THAT(
      log_->AppendBatch({Entry(0), Entry(1), Entry(2), Entry(3), Entry(4)}),
      IsOk());
  v1::Checkpoint before = log_->LatestCheckpoint();
  CloseAll();
  OpenAll();
  EXPECT_EQ(log_->Size(), 5u);
  EXPECT_EQ(log_->LatestCheckpoint().note(), before.note());
  auto index = log_->Append(Entry(5));
  ASSERT_THAT(index, IsOk());
  EXPECT_EQ(*index, 5u);
  EXPECT_THAT(Replay(before.note()), IsOk());
}

TEST_F(AuditLogTest, FlippedByteInStoredLeafIsNamedByReplay) {
  for (int i = 0; i < 20; ++i) ASSERT_THAT(log_->Append(Entry(i)), IsOk());
  std::string trusted = log_->LatestCheckpoint().note();
  CloseAll();
  {
    auto db = storage::Database::Open({dir_.Join("db"), false, {}});
    ASSERT_THAT(db, IsOk());
    auto* family = (*db)->family(storage::Family::kAudit);
    std::string leaf;
    ASSERT_TRUE((*db)->db()->Get({}, family, LeafKey(11), &leaf).ok());
    leaf[leaf.size() / 2] ^= 0x01;
    ASSERT_TRUE((*db)->db()->Put({}, family, LeafKey(11), leaf).ok());
  }
  OpenAll();  // the cheap open check does not read leaves
  auto result = Replay(trusted);
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(result.status().message(), HasSubstr("leaf 11 "));
}

TEST_F(AuditLogTest, DroppedTailWithOldCheckpointBreaksConsistency) {
  for (int i = 0; i < 12; ++i) ASSERT_THAT(log_->Append(Entry(i)), IsOk());
  std::string old_note = log_->LatestCheckpoint().note();
  for (int i = 12; i < 20; ++i) ASSERT_THAT(log_->Append(Entry(i)), IsOk());
  std::string trusted = log_->LatestCheckpoint().note();
  CloseAll();
  {
    // An operator removes the last 8 entries and puts back the checkpoint
    // the node once signed for 12; nothing is re-signed.
    auto db = storage::Database::Open({dir_.Join("db"), false, {}});
    ASSERT_THAT(db, IsOk());
    auto* family = (*db)->family(storage::Family::kAudit);
    rocksdb::WriteBatch batch;
    for (uint64_t i = 12; i < 20; ++i)
      ASSERT_TRUE(batch.Delete(family, LeafKey(i)).ok());
    std::string size(8, '\0');
    size[7] = 12;
    ASSERT_TRUE(batch.Put(family, "S", size).ok());
    ASSERT_TRUE(batch.Put(family, "C", old_note).ok());
    ASSERT_TRUE((*db)->db()->Write({}, &batch).ok());
  }
  OpenAll();
  EXPECT_EQ(log_->Size(), 12u);
  auto result = Replay(trusted);
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(result.status().message(),
              HasSubstr("not consistent with the trusted checkpoint"));
}

TEST_F(AuditLogTest, DroppedTailWithoutResigningFailsOpen) {
  for (int i = 0; i < 20; ++i) ASSERT_THAT(log_->Append(Entry(i)), IsOk());
  CloseAll();
  {
    auto db = storage::Database::Open({dir_.Join("db"), false, {}});
    ASSERT_THAT(db, IsOk());
    std::string size(8, '\0');
    size[7] = 15;
    ASSERT_TRUE((*db)
                    ->db()
                    ->Put({}, (*db)->family(storage::Family::kAudit), "S", size)
                    .ok());
  }
  auto db = storage::Database::Open({dir_.Join("db"), false, {}});
  ASSERT_THAT(db, IsOk());
  RocksDbAuditStore store(db->get());
  auto log = AuditLog::Open({std::string(kOrigin), signer_.get(), &store});
  EXPECT_THAT(log, StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(AuditLogTest, OpenWithAnotherKeyFails) {
  ASSERT_THAT(log_->Append(Entry(0)), IsOk());
  auto other = crypto::Ed25519Signer::FromSeed(crypto::SecretBytes::Random(32));
  ASSERT_THAT(other, IsOk());
  EXPECT_THAT(
      AuditLog::Open({std::string(kOrigin), other->get(), faulty_.get()}),
      StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(AuditLogTest, InvalidOriginIsRejected) {
  EXPECT_THAT(AuditLog::Open({"has space", signer_.get(), faulty_.get()}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace haven::server::audit
