// End-to-end tests of the audit log through `havenctl audit`, against real
// havend processes: full verification and its trusted state, tampering and
// truncation of the stored log, SIGKILL under concurrent writes, proofs, an
// independent verifier, and roles.
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "server/storage/database.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

using ::haven::server::storage::Database;
using ::haven::server::storage::Family;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

constexpr int kExitVerifyFailed = 4;

std::string LeafKey(uint64_t index) {
  std::string key(1, 'L');
  for (int shift = 56; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>(index >> shift));
  }
  return key;
}

uint64_t BigEndian64(const std::string& b) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < b.size(); ++i) {
    v = (v << 8) | static_cast<uint8_t>(b[i]);
  }
  return v;
}

// The first unsigned integer after "name": in a line of JSON.
uint64_t JsonNumber(const std::string& json, const std::string& name) {
  std::smatch match;
  std::regex pattern("\"" + name + "\":([0-9]+)");
  uint64_t n = 0;
  if (std::regex_search(json, match, pattern)) {
    EXPECT_TRUE(absl::SimpleAtoi(match[1].str(), &n));
  }
  return n;
}

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++count;
  }
  return count;
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    node_ = StartLoneNode(dir_.path(), pki_.path(), &error);
    ASSERT_NE(node_, nullptr) << error;
    state_ = state_dir_.Join("trusted/audit.state");
  }

  int Ctl(const std::string& role, const std::vector<std::string>& args,
          std::string* out) const {
    return node_->Havenctl(role, args, out);
  }

  int Verify(std::string* out) const {
    return Ctl("auditor", {"audit", "verify", "--state", state_}, out);
  }

  std::string NewSubject() {
    std::string out;
    EXPECT_EQ(Ctl("caseworker", {"records", "create-subject"}, &out), 0) << out;
    out.erase(out.find_last_not_of("\n") + 1);
    return out;
  }

  bool Put(const std::string& subject) const {
    std::string out;
    return Ctl("caseworker",
               {"records", "put", "--subject", subject, "--field",
                "phone:CONTACT=555-0100"},
               &out) == 0;
  }

  // Several logged operations: a subject and `puts` records.
  void Activity(int puts) {
    std::string subject = NewSubject();
    for (int i = 0; i < puts; ++i) ASSERT_TRUE(Put(subject));
  }

  uint64_t TreeSize() const {
    std::string out;
    EXPECT_EQ(Ctl("auditor", {"audit", "checkpoint", "--json"}, &out), 0)
        << out;
    return JsonNumber(out, "tree_size");
  }

  std::unique_ptr<Database> OpenStoppedNodeDatabase() {
    Database::Options options;
    options.path = node_->dir() + "/data";
    options.create_if_missing = false;
    auto db = Database::Open(std::move(options));
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? *std::move(db) : nullptr;
  }

  static std::string Get(const Database& db, const std::string& key) {
    std::string value;
    rocksdb::Status s = db.db()->Get(rocksdb::ReadOptions(),
                                     db.family(Family::kAudit), key, &value);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return value;
  }

  static void Put(Database& db, const std::string& key,
                  const std::string& value) {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    ASSERT_TRUE(db.db()->Put(sync, db.family(Family::kAudit), key, value).ok());
  }

  TempDir pki_;
  TempDir dir_;
  TempDir state_dir_;
  std::string state_;
  std::unique_ptr<TestNode> node_;
};

TEST_F(AuditTest, VerifyPassesThenStaysConsistentWithTrustedCheckpoint) {
  Activity(3);
  std::string out;
  ASSERT_EQ(Verify(&out), 0) << out;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(
      out, match, std::regex(R"(log \S+: ([0-9]+) entries verified)")))
      << out;
  const std::string first_size = match[1].str();
  EXPECT_THAT(out, HasSubstr("first verification"));

  struct stat st;
  ASSERT_EQ(stat(state_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  Activity(2);
  ASSERT_EQ(Verify(&out), 0) << out;
  EXPECT_THAT(out, HasSubstr("consistent with trusted size " + first_size))
      << out;
  EXPECT_THAT(out, Not(HasSubstr("log safe-harbor: " + first_size + " ")));
}

// An entry altered on disk: the node refuses to start and names it (the
// newest entries are checked against the tree at every start); an auditor
// replaying the log names it too (client/verify's unit tests).
TEST_F(AuditTest, FlippedByteInStoredEntryStopsTheNodeAndIsNamed) {
  Activity(4);
  const uint64_t tampered = 3;
  ASSERT_GT(TreeSize(), tampered + 1);
  ASSERT_EQ(node_->Stop(), 0);
  {
    auto db = OpenStoppedNodeDatabase();
    ASSERT_NE(db, nullptr);
    std::string leaf = Get(*db, LeafKey(tampered));
    // Flip a byte inside a text field, so the entry still parses and only
    // the hash check can catch it.
    size_t pos = leaf.find(node_->agency_id());
    ASSERT_NE(pos, std::string::npos);
    leaf[pos] ^= 0x20;
    Put(*db, LeafKey(tampered), leaf);
  }
  std::string error;
  ASSERT_FALSE(node_->Start(&error));
  EXPECT_THAT(error, HasSubstr(absl::StrCat("audit log entry ", tampered,
                                            " is missing or does not match")));
}

TEST_F(AuditTest, TruncatedLogStopsTheNodeAtStart) {
  Activity(1);
  ASSERT_EQ(node_->Stop(), 0);
  std::string old_size_value;
  std::string old_note;
  {
    auto db = OpenStoppedNodeDatabase();
    ASSERT_NE(db, nullptr);
    old_size_value = Get(*db, "S");
    old_note = Get(*db, "C");
  }
  const uint64_t old_size = BigEndian64(old_size_value);
  ASSERT_GT(old_size, 0u);
  std::string error;
  ASSERT_TRUE(node_->Start(&error)) << error;
  Activity(6);
  std::string out;
  ASSERT_EQ(Verify(&out), 0) << out;
  ASSERT_EQ(node_->Stop(), 0);

  // Remove every leaf and tree node beyond the old size, and put back the
  // old size and the old signed checkpoint: everything an attacker without
  // the signing key can do to hide the later entries.
  {
    auto db = OpenStoppedNodeDatabase();
    ASSERT_NE(db, nullptr);
    rocksdb::WriteBatch batch;
    std::unique_ptr<rocksdb::Iterator> it(db->db()->NewIterator(
        rocksdb::ReadOptions(), db->family(Family::kAudit)));
    int removed_leaves = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string key = it->key().ToString();
      if (key.size() == 9 && key[0] == 'L' &&
          BigEndian64(key.substr(1)) >= old_size) {
        batch.Delete(db->family(Family::kAudit), key);
        ++removed_leaves;
      } else if (key.size() == 10 && key[0] == 'N') {
        int level = static_cast<uint8_t>(key[1]);
        uint64_t end = (BigEndian64(key.substr(2)) + 1) << level;
        if (end > old_size) batch.Delete(db->family(Family::kAudit), key);
      }
    }
    ASSERT_TRUE(it->status().ok());
    ASSERT_GT(removed_leaves, 6);
    batch.Put(db->family(Family::kAudit), "S", old_size_value);
    batch.Put(db->family(Family::kAudit), "C", old_note);
    rocksdb::WriteOptions sync;
    sync.sync = true;
    ASSERT_TRUE(db->db()->Write(sync, &batch).ok());
  }

  // The truncated store agrees with itself (size, tree, checkpoint), but
  // not with the checkpoint the node keeps beside it: the node refuses to
  // start rather than reuse the removed indices.
  ASSERT_FALSE(node_->Start(&error));
  EXPECT_THAT(error, HasSubstr("this node signed a checkpoint of"));
  EXPECT_THAT(error, HasSubstr(absl::StrCat("holds only ", old_size)));
}

TEST_F(AuditTest, EverySeenWriteSurvivesRepeatedSigkill) {
  const std::string subject = NewSubject();
  constexpr int kRounds = 5;
  constexpr int kThreads = 4;
  constexpr int kMaxPutsPerThread = 25;
  int successes = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<int> round_successes{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
      writers.emplace_back([&] {
        for (int i = 0; i < kMaxPutsPerThread && !stop.load(); ++i) {
          if (Put(subject)) round_successes.fetch_add(1);
        }
      });
    }
    // Kill once a few writes have gone through, while others are in flight.
    for (int spin = 0; spin < 2000 && round_successes.load() < 6; ++spin) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    node_->Kill();
    stop.store(true);
    for (auto& w : writers) w.join();
    successes += round_successes.load();

    std::string error;
    ASSERT_TRUE(node_->Start(&error)) << error;
    std::string out;
    ASSERT_EQ(Verify(&out), 0) << "round " << round << ": " << out;
    ASSERT_EQ(Ctl("auditor", {"audit", "tail", "--json"}, &out), 0) << out;
    size_t written = CountOf(out, "\"detail\":\"record created");
    EXPECT_GE(written, static_cast<size_t>(successes)) << "round " << round;
  }
  EXPECT_GT(successes, kRounds);
}

TEST_F(AuditTest, IndependentVerifierAcceptsExport) {
  Activity(5);
  const std::string file = state_dir_.Join("export.json");
  std::string out;
  ASSERT_EQ(Ctl("auditor", {"audit", "export", "--out", file}, &out), 0) << out;
  ASSERT_EQ(RunCommand({"/usr/bin/python3",
                        SourceDir() + "/tests/e2e/python/verify_log.py", file},
                       &out),
            0)
      << out;
  EXPECT_THAT(out, StartsWith("OK: checkpoint "));
}

TEST_F(AuditTest, ProofAndConsistencyHaveTheDocumentedShape) {
  Activity(4);
  const uint64_t size = TreeSize();
  ASSERT_GE(size, 5u);
  std::string out;
  ASSERT_EQ(Ctl("auditor", {"audit", "proof", "--index", "1"}, &out), 0) << out;
  EXPECT_THAT(
      out,
      MatchesRegex(absl::StrCat(
          R"(\{"leaf_index":1,"tree_size":)", size,
          R"(,"leaf_hash":"[A-Za-z0-9+/=]{44}","hashes":\[("[A-Za-z0-9+/=]{44}",?)+\]\}\s*)")));
  ASSERT_EQ(
      Ctl("auditor", {"audit", "proof", "--index", "2", "--size", "4"}, &out),
      0)
      << out;
  EXPECT_THAT(out, HasSubstr(R"("leaf_index":2,"tree_size":4,)"));

  ASSERT_EQ(Ctl("auditor", {"audit", "consistency", "--from", "3"}, &out), 0)
      << out;
  EXPECT_THAT(
      out, MatchesRegex(absl::StrCat(
               R"(\{"old_size":3,"old_root":"[A-Za-z0-9+/=]{44}","new_size":)",
               size, R"(,"hashes":\[("[A-Za-z0-9+/=]{44}",?)+\]\}\s*)")));
  ASSERT_EQ(Ctl("auditor", {"audit", "consistency", "--from", "2", "--to", "4"},
                &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr(R"("old_size":2,)"));
  EXPECT_THAT(out, HasSubstr(R"("new_size":4,)"));

  ASSERT_EQ(Ctl("auditor", {"audit", "checkpoint"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr(absl::StrCat("\n", size, "\n")));
  EXPECT_THAT(out, HasSubstr("\n\n\xE2\x80\x94 "));  // blank line, em dash
  std::string key;
  ASSERT_EQ(Ctl("auditor", {"audit", "key"}, &key), 0) << key;
  EXPECT_THAT(
      key, MatchesRegex(R"([^+[:space:]]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+\s*)"));

  EXPECT_EQ(Ctl("auditor",
                {"audit", "proof", "--index", "1", "--size",
                 absl::StrCat(size + 100)},
                &out),
            1)
      << out;
}

TEST_F(AuditTest, OnlyAuditorsReadTheLogAndAdvocatesGetReports) {
  const std::string subject = NewSubject();
  ASSERT_TRUE(Put(subject));
  std::string out;
  EXPECT_EQ(Ctl("caseworker", {"audit", "tail"}, &out), 1) << out;
  EXPECT_THAT(out, Not(HasSubstr("RECORD_WRITTEN")));
  EXPECT_EQ(Ctl("caseworker", {"audit", "verify", "--state", state_}, &out), 1)
      << out;

  ASSERT_EQ(Ctl("auditor", {"audit", "tail"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("RECORD_WRITTEN"));
  EXPECT_THAT(out, Not(HasSubstr(subject)));

  ASSERT_EQ(Ctl("advocate", {"audit", "report", "--subject", subject, "--json"},
                &out),
            0)
      << out;
  EXPECT_THAT(out, StartsWith("["));
  EXPECT_EQ(Ctl("caseworker", {"audit", "report", "--subject", subject}, &out),
            1)
      << out;
}

// A survivor's "who has seen my data" includes her own agency's staff: a
// caseworker's read of her record is in her report, by principal, in the
// text, JSON and plain forms; another survivor's read is not.
TEST_F(AuditTest, AccessReportListsALocalCaseworkersReadOfHerRecord) {
  const std::string subject = NewSubject();
  const std::string other = NewSubject();
  ASSERT_TRUE(Put(subject));
  ASSERT_TRUE(Put(other));
  std::string out;
  ASSERT_EQ(Ctl("caseworker", {"records", "list", "--subject", subject}, &out),
            0)
      << out;
  const std::string caseworker = node_->agency_id() + "-caseworker";

  ASSERT_EQ(Ctl("advocate", {"audit", "report", "--subject", subject}, &out), 0)
      << out;
  EXPECT_THAT(out, HasSubstr("record written  by " + caseworker));
  EXPECT_THAT(out, HasSubstr("record read  by " + caseworker));

  ASSERT_EQ(Ctl("advocate", {"audit", "report", "--subject", subject, "--json"},
                &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("\"kind\":\"RECORD_READ\",\"principal\":\"" +
                             caseworker + "\""));

  ASSERT_EQ(Ctl("advocate",
                {"audit", "report", "--subject", subject, "--plain"}, &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("staff account " + caseworker +
                             " read your record here."));

  // The other survivor's record was written but never read.
  ASSERT_EQ(Ctl("auditor", {"audit", "report", "--subject", other}, &out), 0)
      << out;
  EXPECT_THAT(out, HasSubstr("record written"));
  EXPECT_THAT(out, Not(HasSubstr("record read")));
}

}  // namespace
}  // namespace haven::testing
