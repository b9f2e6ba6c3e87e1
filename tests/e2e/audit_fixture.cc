// haven_audit_fixture: builds an audit log in a temporary directory and
// writes what an auditor would fetch from a node (checkpoint, verifier key,
// every leaf, inclusion proofs for every leaf, consistency proofs, an older
// checkpoint) as JSON, for the independent verifier in
// tests/e2e/python/verify_log.py.
//
//   haven_audit_fixture OUT.json [--tamper-leaf N]
//
// --tamper-leaf flips one byte of leaf N in the export, as if the stored
// entry had been altered after the node committed to it.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/cli/json.h"
#include "haven/base/clock.h"
#include "server/audit/audit_log.h"
#include "server/crypto/ed25519_signer.h"
#include "server/crypto/state_sealer.h"
#include "server/storage/rocksdb_storage.h"
#include "tests/testing/temp_dir.h"

namespace {

using haven::client::cli::JsonQuote;
using haven::server::audit::AuditLog;

std::string B64(absl::string_view s) {
  return JsonQuote(absl::Base64Escape(s));
}

template <typename Hashes>
std::string HashList(const Hashes& hashes) {
  std::string out = "[";
  bool first = true;
  for (const auto& h : hashes) {
    absl::StrAppend(&out, first ? "" : ",", B64(h));
    first = false;
  }
  return out + "]";
}

int Fail(absl::string_view what, const absl::Status& status) {
  std::cerr << "haven_audit_fixture: " << what << ": " << status << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4) {
    std::cerr << "usage: haven_audit_fixture OUT.json [--tamper-leaf N]\n";
    return 2;
  }
  int64_t tamper = -1;
  if (argc == 4 && (std::string(argv[2]) != "--tamper-leaf" ||
                    !absl::SimpleAtoi(argv[3], &tamper))) {
    std::cerr << "usage: haven_audit_fixture OUT.json [--tamper-leaf N]\n";
    return 2;
  }

  haven::testing::TempDir dir;
  auto storage =
      haven::server::storage::RocksDbStorage::Open({dir.Join("db"), true, {}});
  if (!storage.ok()) return Fail("open database", storage.status());
  auto signer = haven::server::crypto::Ed25519Signer::FromSeed(
      haven::server::crypto::SecretBytes::Random(32));
  if (!signer.ok()) return Fail("signer", signer.status());
  auto sealer = haven::server::crypto::StateSealer::Create(
      haven::server::crypto::SecretBytes::Random(32));
  if (!sealer.ok()) return Fail("sealer", sealer.status());
  const std::string origin = "agency-a.haven.example/log";
  AuditLog::Options options;
  options.origin = origin;
  options.agency_id = "agency-a";
  options.signer = signer->get();
  options.sealer = sealer->get();
  options.storage = storage->get();
  options.clock = haven::SystemClock::Get();
  auto log = AuditLog::Open(options);
  if (!log.ok()) return Fail("open log", log.status());

  constexpr int kEntries = 45;
  constexpr uint64_t kOldSize = 30;
  std::string old_checkpoint;
  for (int i = 0; i < kEntries; ++i) {
    haven::v1::AuditEntry e;
    e.set_kind(i % 5 == 0 ? haven::v1::REQUEST_REFUSED : haven::v1::DISCLOSURE);
    e.set_time_unix_nanos(1'700'000'000'000'000'000 + i * 1000);
    e.set_agency_id("agency-b");
    e.set_principal("caseworker-1");
    e.set_subject_pseudonym(std::string(64, "0123456789abcdef"[i % 16]));
    e.set_request_id(absl::StrCat("req-", i));
    auto index = (*log)->Append(e);
    if (!index.ok()) return Fail("append", index.status());
    if (*index + 1 == kOldSize)
      old_checkpoint = (*log)->LatestCheckpoint().note();
  }
  const uint64_t size = (*log)->Size();

  auto entries = (*log)->GetEntries(0, size);
  if (!entries.ok()) return Fail("entries", entries.status());
  std::vector<std::string> leaves;
  for (const auto& e : *entries) leaves.push_back(e.leaf());
  if (tamper >= 0) {
    if (static_cast<uint64_t>(tamper) >= leaves.size()) {
      std::cerr << "haven_audit_fixture: no leaf " << tamper << "\n";
      return 2;
    }
    std::string& leaf = leaves[tamper];
    leaf[leaf.size() / 2] ^= 0x01;
  }

  std::string json = "{\n";
  absl::StrAppend(&json, "\"origin\": ", JsonQuote(origin), ",\n");
  absl::StrAppend(&json, "\"checkpoint\": ",
                  JsonQuote((*log)->LatestCheckpoint().note()), ",\n");
  absl::StrAppend(&json, "\"old_checkpoint\": ", JsonQuote(old_checkpoint),
                  ",\n");
  absl::StrAppend(&json, "\"verifier_key\": ", JsonQuote((*log)->VerifierKey()),
                  ",\n");
  absl::StrAppend(&json, "\"leaves\": ", HashList(leaves), ",\n");
  json += "\"inclusion_proofs\": [\n";
  for (uint64_t i = 0; i < size; ++i) {
    auto proof = (*log)->InclusionProof(i, size);
    if (!proof.ok()) return Fail("inclusion proof", proof.status());
    absl::StrAppend(&json, i == 0 ? "" : ",\n", "{\"leaf_index\": ", i,
                    ", \"tree_size\": ", size,
                    ", \"leaf_hash\": ", B64(proof->leaf_hash()),
                    ", \"hashes\": ", HashList(proof->hashes()), "}");
  }
  json += "\n],\n\"consistency_proofs\": [\n";
  bool first = true;
  for (uint64_t old_size :
       {uint64_t{1}, uint64_t{7}, uint64_t{16}, kOldSize, size}) {
    auto proof = (*log)->ConsistencyProof(old_size, size);
    if (!proof.ok()) return Fail("consistency proof", proof.status());
    absl::StrAppend(&json, first ? "" : ",\n", "{\"old_size\": ", old_size,
                    ", \"old_root\": ", B64(proof->old_root()),
                    ", \"new_size\": ", size,
                    ", \"hashes\": ", HashList(proof->hashes()), "}");
    first = false;
  }
  json += "\n]\n}\n";

  std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
  out << json;
  out.close();
  if (!out) {
    std::cerr << "haven_audit_fixture: cannot write " << argv[1] << "\n";
    return 1;
  }
  return 0;
}
