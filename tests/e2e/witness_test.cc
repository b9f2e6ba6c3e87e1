// Witnessing between real nodes: three agencies witness each other every
// second. Peers' cosignatures reach the node they cosign within a round
// and make `havenctl audit verify --witness ... --min K` pass only with K
// valid witness keys; a node whose log is started afresh under the same key
// (a rolled-back or forked history, validly signed) is reported by every
// witness, as one WITNESS_FAILED entry each and in `audit witnessed`.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/verify/cosignature.h"
#include "client/verify/signed_note.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_federation.h"
#include "tests/testing/test_node.h"

namespace haven::testing {
namespace {

constexpr char kA[] = "agency-a";
constexpr char kB[] = "agency-b";
constexpr char kC[] = "agency-c";

class WitnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    federation_ = std::make_unique<TestFederation>(dir_.path());
    std::string error;
    ASSERT_TRUE(federation_->Create({{kA, "VICTIM_SERVICES", ""},
                                     {kB, "LEGAL_SERVICES", ""},
                                     {kC, "LAW_ENFORCEMENT", ""}},
                                    &error))
        << error;
    // A witnessing round every second instead of every 30.
    for (const char* agency : {kA, kB, kC}) {
      std::ofstream(federation_->node(agency).config_path(), std::ios::app)
          << "witness_interval_seconds: 1\n";
    }
    ASSERT_TRUE(federation_->Start(&error)) << error;
  }

  // havenctl as auditor on `agency`'s node; the exit code.
  int Auditor(const std::string& agency, std::vector<std::string> args,
              std::string* out) {
    return federation_->node(agency).Havenctl("auditor", args, out);
  }

  std::string WitnessKey(const std::string& agency) {
    std::string out;
    EXPECT_EQ(Auditor(agency, {"audit", "key", "--type", "witness"}, &out), 0)
        << out;
    return std::string(absl::StripAsciiWhitespace(out));
  }

  // `havenctl audit verify` of `agency`'s log with these witness keys.
  int Verify(const std::string& agency, const std::vector<std::string>& keys,
             int min, std::string* out) {
    std::vector<std::string> args = {"audit", "verify", "--state",
                                     dir_.Join(agency + ".state")};
    for (const std::string& key : keys) {
      args.push_back("--witness");
      args.push_back(key);
    }
    args.push_back("--min");
    args.push_back(absl::StrCat(min));
    return Auditor(agency, args, out);
  }

  // WITNESS_FAILED entries in `agency`'s log naming `peer`.
  int WitnessFailedEntries(const std::string& agency, const std::string& peer) {
    std::string out;
    EXPECT_EQ(Auditor(agency, {"audit", "tail", "--json"}, &out), 0) << out;
    int count = 0;
    for (absl::string_view line : absl::StrSplit(out, '\n')) {
      if (absl::StrContains(line, "WITNESS_FAILED") &&
          absl::StrContains(line, absl::StrCat("\"", peer, "\""))) {
        ++count;
      }
    }
    return count;
  }

  // What `agency` reports of `peer` in `audit witnessed --json`.
  std::string Witnessed(const std::string& agency, const std::string& peer) {
    std::string out;
    EXPECT_EQ(Auditor(agency,
                      {"audit", "witnessed", "--agency", peer, "--json"}, &out),
              0)
        << out;
    return out;
  }

  // Starts `agency`'s stopped node on a log begun afresh under the same
  // master key, so the same signing key: what a node rolled back, or one
  // serving a second history, looks like to its witnesses.
  void StartWithFreshLog(const std::string& agency) {
    TestNode& node = federation_->node(agency);
    std::error_code ec;
    std::filesystem::rename(node.dir() + "/data", node.dir() + "/data.old", ec);
    ASSERT_FALSE(ec) << ec.message();
    std::string out;
    ASSERT_EQ(RunCommand({HavendPath(), "--config",
                          node.dir() + "/init.textproto", "--init"},
                         &out),
              0)
        << out;
    std::string error;
    ASSERT_TRUE(node.Start(&error)) << error;
  }

  TempDir dir_;
  std::unique_ptr<TestFederation> federation_;
};

TEST_F(WitnessTest, CheckpointCosignedByTwoPeersMeetsAQuorumOfTwo) {
  const std::string key_a = WitnessKey(kA);
  const std::string key_b = WitnessKey(kB);
  const std::string key_c = WitnessKey(kC);
  ASSERT_TRUE(absl::StartsWith(key_a, "agency-a.haven/log+")) << key_a;

  // Both witnesses' cosignatures of c's checkpoint reach c within a few
  // rounds (the first ones wait for the peers to come up).
  std::string out;
  int code = -1;
  const auto give_up = In(std::chrono::seconds(30));
  while (std::chrono::system_clock::now() < give_up) {
    code = Verify(kC, {key_a, key_b}, 2, &out);
    if (code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "cosigned by at least 2 of 2")) << out;

  // The cosigned checkpoint is a signed note any verifier reads: the
  // node's own signature first, then one line per witness.
  ASSERT_EQ(Auditor(kC, {"audit", "checkpoint", "--cosigned", "2"}, &out), 0)
      << out;
  auto note = client::ParseNote(out);
  ASSERT_TRUE(note.ok()) << note.status() << out;
  EXPECT_EQ(note->signatures.size(), 3u);
  auto c_key = client::ParseVerifierKey(federation_->verifier_key(kC));
  ASSERT_TRUE(c_key.ok());
  EXPECT_TRUE(client::VerifyCheckpoint(out, *c_key, "agency-c.haven/log").ok());
  std::vector<client::NoteVerifierKey> witnesses;
  for (const std::string& key : {key_a, key_b}) {
    witnesses.push_back(*client::ParseCosignatureKey(key));
  }
  auto count = client::CountCosignatures(out, witnesses);
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 2);

  // Go's golang.org/x/mod/sumdb/note (Debian's golang-golang-x-mod-dev),
  // the reference reader of signed notes, opens the cosigned checkpoint
  // with c's key and carries each cosignature as an additional signature.
  const std::string note_file = dir_.Join("cosigned.note");
  std::ofstream(note_file) << out;
  std::string go_out;
  ASSERT_EQ(
      RunCommand(
          {"/usr/bin/env", "GO111MODULE=off", "GOPATH=/usr/share/gocode",
           "GOCACHE=" + dir_.Join("gocache"), "GOFLAGS=", "HOME=" + dir_.path(),
           "go", "run", SourceDir() + "/tests/e2e/go/note_open.go",
           federation_->verifier_key(kC), note_file},
          &go_out, std::chrono::seconds(180)),
      0)
      << go_out;
  EXPECT_TRUE(absl::StrContains(go_out, "verified=1 unverified=2")) << go_out;
  for (const client::NoteVerifierKey& witness : witnesses) {
    EXPECT_TRUE(absl::StrContains(
        go_out,
        absl::StrFormat("unverified %s %08x", witness.name, witness.key_id)))
        << go_out;
  }

  // One key cannot make two cosignatures; nor can c's own key stand in.
  EXPECT_EQ(Verify(kC, {key_a}, 2, &out), 4) << out;
  EXPECT_TRUE(absl::StrContains(out, "fewer than 2")) << out;
  EXPECT_EQ(Verify(kC, {key_a, key_c}, 2, &out), 4) << out;
  // A node key is not a witness key.
  std::string note_key;
  ASSERT_EQ(Auditor(kA, {"audit", "key"}, &note_key), 0);
  EXPECT_EQ(
      Verify(kC, {std::string(absl::StripAsciiWhitespace(note_key)), key_b}, 1,
             &out),
      2)
      << out;
  EXPECT_EQ(Verify(kC, {key_a}, 1, &out), 0) << out;
}

TEST_F(WitnessTest, ForkedPeerIsReportedByEveryWitness) {
  // Every witness has seen b's log first.
  const auto seen_by_all = In(std::chrono::seconds(30));
  while (std::chrono::system_clock::now() < seen_by_all &&
         !(absl::StrContains(Witnessed(kA, kB), "\"tree_size\"") &&
           absl::StrContains(Witnessed(kC, kB), "\"tree_size\""))) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(absl::StrContains(Witnessed(kA, kB), "\"tree_size\""));
  ASSERT_TRUE(absl::StrContains(Witnessed(kC, kB), "\"tree_size\""));

  // While b is down the witnesses cannot reach it: that is not a fork and
  // is not logged, however many rounds pass.
  TestNode& a = federation_->node(kA);
  ASSERT_EQ(federation_->node(kB).Stop(), 0);
  const size_t log_mark = a.Log().size();
  const auto rounds = In(std::chrono::seconds(30));
  while (std::chrono::system_clock::now() < rounds) {
    const std::string since = a.Log().substr(log_mark);
    size_t n = 0;
    for (size_t at = since.find("peers_witnessed"); at != std::string::npos;
         at = since.find("peers_witnessed", at + 1)) {
      ++n;
    }
    if (n >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(WitnessFailedEntries(kA, kB), 0);

  // b comes back with another history under the same key.
  ASSERT_NO_FATAL_FAILURE(StartWithFreshLog(kB));

  // Every witness reports it, within a round or two of b being back.
  const auto reported = In(std::chrono::seconds(30));
  while (std::chrono::system_clock::now() < reported &&
         !(absl::StrContains(Witnessed(kA, kB), "\"failure\"") &&
           absl::StrContains(Witnessed(kC, kB), "\"failure\""))) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (const char* witness : {kA, kC}) {
    const std::string report = Witnessed(witness, kB);
    EXPECT_TRUE(absl::StrContains(report, "\"failure\":\"INCONSISTENT\"") ||
                absl::StrContains(report, "\"failure\":\"LOG_SHRANK\""))
        << witness << ": " << report;
    EXPECT_EQ(WitnessFailedEntries(witness, kB), 1) << witness;
  }

  // Later rounds see the same fork again, though b's second history grows
  // (each write signs a new checkpoint): still one entry each, the failure
  // counted as repeated.
  std::string created;
  ASSERT_EQ(federation_->node(kB).Havenctl(
                "caseworker", {"records", "create-subject"}, &created),
            0)
      << created;
  const auto repeated = In(std::chrono::seconds(30));
  while (std::chrono::system_clock::now() < repeated &&
         !absl::StrContains(Witnessed(kA, kB), "\"repeats\":3")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(absl::StrContains(Witnessed(kA, kB), "\"repeats\":3"))
      << Witnessed(kA, kB);
  EXPECT_EQ(WitnessFailedEntries(kA, kB), 1);

  // The fork is a signed second history: b's new checkpoint is never
  // cosigned by a witness that saw the first.
  std::string out;
  EXPECT_EQ(Auditor(kB,
                    {"audit", "verify", "--state", dir_.Join("b.state"),
                     "--witness", WitnessKey(kA), "--min", "1"},
                    &out),
            4)
      << out;
}

}  // namespace
}  // namespace haven::testing
