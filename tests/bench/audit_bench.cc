// audit_bench: what durability costs the audit log, measured in one run.
//
//  1. Durable actions/s with 64 concurrent writers (each an audit entry and
//     a sealed state change committed in one synced write, group-committed,
//     one signed checkpoint per batch) next to raw RocksDB synced writes of
//     the entry's size from 64 threads, as a ratio (target >= 0.5).
//  2. Time to build an inclusion proof in a log of one million entries
//     (target < 50 us). The big log is bulk-loaded with sync off.
//
//   audit_bench [--seconds S] [--entries N]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "haven/base/clock.h"
#include "rocksdb/db.h"
#include "server/audit/action.h"
#include "server/audit/audit_log.h"
#include "server/crypto/ed25519_signer.h"
#include "server/crypto/state_sealer.h"
#include "server/storage/rocksdb_storage.h"
#include "tests/testing/temp_dir.h"

namespace {

using haven::server::audit::AuditLog;
using Clock = std::chrono::steady_clock;

constexpr int kWriters = 64;

haven::v1::AuditEntry Entry(uint64_t i) {
  haven::v1::AuditEntry e;
  e.set_kind(haven::v1::DISCLOSURE);
  e.set_time_unix_nanos(1'700'000'000'000'000'000 + static_cast<int64_t>(i));
  e.set_agency_id("agency-b");
  e.set_principal("caseworker-17");
  e.set_subject_pseudonym(std::string(64, 'c'));
  e.set_purpose(haven::v1::Purpose(1));
  e.add_asked(haven::v1::Category(1));
  e.add_given(haven::v1::Category(1));
  e.set_policy_version("v3");
  e.add_consent_ids("consent-0001");
  e.set_request_id(absl::StrCat("req-", i));
  return e;
}

// Runs `op(thread, n)` on kWriters threads until `seconds` pass; returns
// operations per second.
template <typename Op>
double RunWriters(double seconds, Op op) {
  std::atomic<int64_t> total{0};
  std::atomic<bool> failed{false};
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(seconds));
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      int64_t n = 0;
      while (Clock::now() < deadline && !failed) {
        if (!op(t, n)) {
          failed = true;
          break;
        }
        ++n;
      }
      total += n;
    });
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed) {
    std::fprintf(stderr, "audit_bench: a write failed\n");
    std::exit(1);
  }
  return static_cast<double>(total) / elapsed;
}

absl::StatusOr<std::unique_ptr<AuditLog>> OpenLog(
    haven::server::storage::Storage* storage,
    const haven::server::crypto::Ed25519Signer& signer,
    const haven::server::crypto::StateSealer& sealer, bool sync) {
  AuditLog::Options options;
  options.origin = "bench.haven.example/log";
  options.agency_id = "bench";
  options.signer = &signer;
  options.sealer = &sealer;
  options.storage = storage;
  options.clock = haven::SystemClock::Get();
  options.sync = sync;
  // Bulk loads commit big groups.
  if (!sync) options.max_batch = 1 << 16;
  return AuditLog::Open(options);
}

std::unique_ptr<haven::server::crypto::Ed25519Signer> NewSigner() {
  auto signer = haven::server::crypto::Ed25519Signer::FromSeed(
      haven::server::crypto::SecretBytes::Random(32));
  if (!signer.ok()) std::exit(1);
  return *std::move(signer);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  uint64_t entries = 1'000'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--seconds") absl::SimpleAtod(argv[i + 1], &seconds);
    if (flag == "--entries") absl::SimpleAtoi(argv[i + 1], &entries);
  }
  haven::testing::TempDir dir;
  auto signer = NewSigner();
  auto sealer = haven::server::crypto::StateSealer::Create(
      haven::server::crypto::SecretBytes::Random(32));
  if (!sealer.ok()) return 1;
  const size_t value_size = AuditLog::CanonicalLeaf(Entry(0)).size();

  // 1a. Raw RocksDB: 64 threads, Put with sync=true, same value size.
  double raw_rate;
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(options, dir.Join("raw"), &raw).ok()) return 1;
    std::unique_ptr<rocksdb::DB> db(raw);
    const std::string value(value_size, 'v');
    rocksdb::WriteOptions sync;
    sync.sync = true;
    raw_rate = RunWriters(seconds, [&](int t, int64_t n) {
      return db->Put(sync, absl::StrCat("k", t, "-", n), value).ok();
    });
  }

  // 1b. The audit log: 64 threads, each committing an action as a
  // disclosure does: its entry and a sealed state change (a use count) in
  // one durable write, group-committed with the others.
  double log_rate;
  int64_t batches;
  uint64_t appended;
  {
    auto storage = haven::server::storage::RocksDbStorage::Open(
        {dir.Join("log"), true, {}});
    if (!storage.ok()) return 1;
    auto log = OpenLog(storage->get(), *signer, **sealer, true);
    if (!log.ok()) return 1;
    log_rate = RunWriters(seconds, [&](int t, int64_t n) {
      haven::server::audit::Action action;
      action.entries.push_back(Entry(static_cast<uint64_t>(t) << 32 | n));
      const std::string key = absl::StrCat("u/consent-", t);
      action.state.Put(haven::server::storage::Family::kConsent, key,
                       (*sealer)->Seal(key, absl::StrCat(n, " 0 0 0")));
      return (*log)->Commit(std::move(action)).ok();
    });
    batches = (*log)->batches();
    appended = (*log)->Size();
  }
  std::printf(
      "audit: %d writers: log %.0f actions/s (entry + state, one write), "
      "raw rocksdb %.0f writes/s, ratio %.2f (target >= 0.5)\n",
      kWriters, log_rate, raw_rate, log_rate / raw_rate);
  std::printf(
      "audit: %llu appends in %lld group commits (%.1f per sync), "
      "value size %zu bytes\n",
      static_cast<unsigned long long>(appended),
      static_cast<long long>(batches),
      batches > 0 ? static_cast<double>(appended) / batches : 0.0, value_size);

  // 2. Inclusion proofs in a big log.
  {
    auto storage = haven::server::storage::RocksDbStorage::Open(
        {dir.Join("big"), true, {}});
    if (!storage.ok()) return 1;
    auto log = OpenLog(storage->get(), *signer, **sealer, false);
    if (!log.ok()) return 1;
    const auto load_start = Clock::now();
    constexpr uint64_t kChunk = 1 << 14;
    for (uint64_t i = 0; i < entries; i += kChunk) {
      std::vector<haven::v1::AuditEntry> chunk;
      for (uint64_t j = i; j < std::min(entries, i + kChunk); ++j) {
        chunk.push_back(Entry(j));
      }
      if (!(*log)->AppendBatch(chunk).ok()) return 1;
    }
    if (!(*storage)
             ->Compact(haven::server::storage::Family::kAudit, "", "")
             .ok()) {
      return 1;
    }
    double load_s =
        std::chrono::duration<double>(Clock::now() - load_start).count();

    const uint64_t size = (*log)->Size();
    std::mt19937_64 rng(42);
    constexpr int kProofs = 20000;
    std::vector<double> micros;
    micros.reserve(kProofs);
    // Warm the block cache as a running node would be, untimed.
    for (int i = 0; i < 2000; ++i) {
      if (!(*log)->InclusionProof(rng() % size, size).ok()) return 1;
    }
    // Proofs at the latest size and at an older size (the auditor's case).
    for (int i = 0; i < kProofs; ++i) {
      uint64_t tree_size = i % 2 == 0 ? size : size - 1 - rng() % (size / 2);
      uint64_t index = rng() % tree_size;
      auto start = Clock::now();
      auto proof = (*log)->InclusionProof(index, tree_size);
      micros.push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - start)
              .count());
      if (!proof.ok()) return 1;
    }
    std::sort(micros.begin(), micros.end());
    double sum = 0;
    for (double m : micros) sum += m;
    std::printf(
        "audit: inclusion proof in a log of %llu entries: mean %.1f us, "
        "p50 %.1f us, p99 %.1f us, max %.1f us (target < 50 us); bulk "
        "load %.1f s\n",
        static_cast<unsigned long long>(size), sum / micros.size(),
        micros[micros.size() / 2], micros[micros.size() * 99 / 100],
        micros.back(), load_s);
  }
  return 0;
}
