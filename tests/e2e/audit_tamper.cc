// haven_audit_tamper: alters one entry of a stopped node's audit log the way
// an attacker with write access to the data dir and knowledge of the format
// would: in the first DISCLOSURE entry it changes the requester's agency id
// (one letter's case) and rewrites the entry's leaf hash to match, so the
// node's own start-up checks (newest entries against their leaf hashes,
// consent entries against the consent store) pass and only an auditor
// replaying the log against the signed checkpoint can catch it.
//
//   haven_audit_tamper DATA_DIR
//
// Used by the demo's test hook (HAVEN_DEMO_TAMPER in deploy/demo.sh) to show
// that step 8's verification fails the demo. Test-only: never installed.
#include <iostream>
#include <string>

#include "client/verify/merkle.h"
#include "haven/v1/audit.pb.h"
#include "server/storage/database.h"

namespace {

using ::haven::server::storage::Database;
using ::haven::server::storage::Family;

// The audit log's key layout (server/audit/audit_log.cc): 'L' + index for an
// entry, 'N' + level + index for a tree node, indices 8 bytes big endian.
std::string BigEndian64(uint64_t v) {
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>(v >> shift));
  }
  return out;
}

int Fail(const std::string& why) {
  std::cerr << "haven_audit_tamper: " << why << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: haven_audit_tamper DATA_DIR\n";
    return 2;
  }
  Database::Options options;
  options.path = argv[1];
  options.create_if_missing = false;
  auto db = Database::Open(std::move(options));
  if (!db.ok()) return Fail(std::string(db.status().message()));
  rocksdb::ColumnFamilyHandle* audit = (*db)->family(Family::kAudit);

  // Bounded: a demo log has a few dozen entries.
  for (uint64_t index = 0; index < 100000; ++index) {
    const std::string leaf_key = "L" + BigEndian64(index);
    std::string leaf;
    rocksdb::Status s =
        (*db)->db()->Get(rocksdb::ReadOptions(), audit, leaf_key, &leaf);
    if (s.IsNotFound()) break;
    if (!s.ok()) return Fail("cannot read the log");
    haven::v1::AuditEntry entry;
    if (!entry.ParseFromString(leaf) || entry.kind() != haven::v1::DISCLOSURE ||
        entry.agency_id().empty()) {
      continue;
    }
    const size_t at = leaf.find(entry.agency_id());
    if (at == std::string::npos) continue;
    leaf[at] ^= 0x20;
    rocksdb::WriteBatch batch;
    batch.Put(audit, leaf_key, leaf);
    batch.Put(audit, std::string("N") + '\0' + BigEndian64(index),
              haven::client::HashLeaf(leaf));
    rocksdb::WriteOptions sync;
    sync.sync = true;
    if (!(*db)->db()->Write(sync, &batch).ok()) return Fail("write failed");
    std::cout << "altered audit entry " << index
              << " (a disclosure: requester's agency id) and its leaf hash\n";
    return 0;
  }
  return Fail("the log has no disclosure entry");
}
