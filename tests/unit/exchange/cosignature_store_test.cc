// CosignatureStore: a peer's cosignature of this node's checkpoint is kept
// only over a checkpoint this node signed of its current log and only under
// the peer's manifest key; what it serves is a valid signed note that the
// node's key still opens, with every kept line after the node's signature.
#include "server/exchange/cosignature_store.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/verify/cosignature.h"
#include "client/verify/signed_note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "haven/base/limits.h"
#include "server/exchange/requester.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_log.h"

namespace haven::server::exchange {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::haven::testing::TestLog;

std::string PublicKey(const crypto::Ed25519Signer& signer) {
  return std::string(reinterpret_cast<const char*>(signer.public_key().data()),
                     signer.public_key().size());
}

// A peer as the manifest names it, witnessing with its log's key.
struct Peer {
  explicit Peer(const std::string& agency) {
    log = *TestLog::Create(agency);
    member.set_agency_id(agency);
    member.set_verifier_key(*client::FormatVerifierKey(
        client::LogOrigin(agency), PublicKey(log->signer())));
  }
  // The line this peer adds to `note` at `time`.
  std::string Cosign(const std::string& note, uint64_t time) const {
    const std::string name = client::LogOrigin(member.agency_id());
    auto text = client::ParseNote(note);
    return client::FormatCosignatureLine(
        name, client::CosignatureKeyId(name, PublicKey(log->signer())), time,
        log->signer().SignToString(client::CosignedMessage(text->text, time)));
  }
  client::NoteVerifierKey WitnessKey() const {
    return client::CosignatureKeyFor(
        *client::ParseVerifierKey(member.verifier_key()));
  }
  std::unique_ptr<TestLog> log;
  haven::v1::Member member;
};

class CosignatureStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto node = TestLog::Create("safe-harbor");
    ASSERT_THAT(node, IsOk());
    node_ = *std::move(node);
    store_ = std::make_unique<CosignatureStore>(CosignatureStore::Deps{
        &node_->storage(), &node_->log(), &node_->clock()});
    Append(3);
  }

  void Append(int n) {
    for (int i = 0; i < n; ++i) {
      haven::v1::AuditEntry entry;
      entry.set_kind(haven::v1::NODE_STARTED);
      ASSERT_THAT(node_->recorder().Record(entry, "test", ""), IsOk());
    }
  }

  haven::v1::Checkpoint Latest() const {
    return node_->log().LatestCheckpoint();
  }
  const int64_t now_ = TestLog::kNow;
  std::unique_ptr<TestLog> node_;
  std::unique_ptr<CosignatureStore> store_;
  Peer legal_aid_{"legal-aid"};
  Peer metro_pd_{"metro-pd"};
};

TEST_F(CosignatureStoreTest, ServesAValidNoteWithEveryWitnessLine) {
  const haven::v1::Checkpoint cp = Latest();
  const std::string line_a = legal_aid_.Cosign(cp.note(), now_);
  const std::string line_b = metro_pd_.Cosign(cp.note(), now_ + 1);
  ASSERT_THAT(
      store_->Accept(legal_aid_.member, cp.tree_size(), cp.note() + line_a),
      IsOk());
  EXPECT_THAT(store_->Cosigned(2), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(
      store_->Accept(metro_pd_.member, cp.tree_size(), cp.note() + line_b),
      IsOk());

  auto cosigned = store_->Cosigned(2);
  ASSERT_THAT(cosigned, IsOk());
  EXPECT_EQ(cosigned->note(), absl::StrCat(cp.note(), line_a, line_b));
  EXPECT_EQ(cosigned->tree_size(), cp.tree_size());
  EXPECT_EQ(cosigned->root_hash(), cp.root_hash());
  // Still a signed note the node's key opens (Go's note.Open would list
  // the cosignature lines as unverified signatures).
  auto parsed = client::ParseNote(cosigned->note());
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->signatures.size(), 3u);
  auto node_key = client::ParseVerifierKey(node_->log().VerifierKey());
  ASSERT_THAT(node_key, IsOk());
  EXPECT_THAT(client::VerifyCheckpoint(cosigned->note(), *node_key,
                                       node_->log().origin()),
              IsOk());
  auto count = client::CountCosignatures(
      cosigned->note(), {legal_aid_.WitnessKey(), metro_pd_.WitnessKey()});
  ASSERT_THAT(count, IsOk());
  EXPECT_EQ(*count, 2);
}

TEST_F(CosignatureStoreTest, NewerCheckpointIsServedOnceCosigned) {
  const haven::v1::Checkpoint old = Latest();
  ASSERT_THAT(store_->Accept(legal_aid_.member, old.tree_size(),
                             old.note() + legal_aid_.Cosign(old.note(), now_)),
              IsOk());
  Append(2);
  const haven::v1::Checkpoint cp = Latest();
  ASSERT_THAT(store_->Accept(legal_aid_.member, cp.tree_size(),
                             cp.note() + legal_aid_.Cosign(cp.note(), now_)),
              IsOk());
  auto cosigned = store_->Cosigned(1);
  ASSERT_THAT(cosigned, IsOk());
  EXPECT_EQ(cosigned->tree_size(), cp.tree_size());
  // An older checkpoint cosigned by more witnesses stays available.
  ASSERT_THAT(store_->Accept(metro_pd_.member, old.tree_size(),
                             old.note() + metro_pd_.Cosign(old.note(), now_)),
              IsOk());
  auto two = store_->Cosigned(2);
  ASSERT_THAT(two, IsOk());
  EXPECT_EQ(two->tree_size(), old.tree_size());
}

TEST_F(CosignatureStoreTest, LineByAnotherKeyIsRefused) {
  const haven::v1::Checkpoint cp = Latest();
  // metro-pd's line, sent by legal-aid: not legal-aid's manifest key.
  EXPECT_THAT(store_->Accept(legal_aid_.member, cp.tree_size(),
                             cp.note() + metro_pd_.Cosign(cp.note(), now_)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A flipped bit in legal-aid's own line.
  std::string line = legal_aid_.Cosign(cp.note(), now_);
  std::string bad = line;
  bad[bad.size() - 20] = bad[bad.size() - 20] == 'A' ? 'B' : 'A';
  EXPECT_THAT(
      store_->Accept(legal_aid_.member, cp.tree_size(), cp.note() + bad),
      StatusIs(absl::StatusCode::kInvalidArgument));
  // Dated a day ahead.
  EXPECT_THAT(
      store_->Accept(legal_aid_.member, cp.tree_size(),
                     cp.note() + legal_aid_.Cosign(cp.note(), now_ + 86400)),
      StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->Cosigned(1), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CosignatureStoreTest, CheckpointThisNodeDidNotSignIsRefused) {
  const haven::v1::Checkpoint cp = Latest();
  // legal-aid's own checkpoint, cosigned by legal-aid.
  haven::v1::AuditEntry entry;
  entry.set_kind(haven::v1::NODE_STARTED);
  ASSERT_THAT(legal_aid_.log->recorder().Record(entry, "test", ""), IsOk());
  const haven::v1::Checkpoint theirs = legal_aid_.log->log().LatestCheckpoint();
  EXPECT_THAT(
      store_->Accept(legal_aid_.member, theirs.tree_size(),
                     theirs.note() + legal_aid_.Cosign(theirs.note(), now_)),
      StatusIs(absl::StatusCode::kFailedPrecondition));
  // The right note named with another size.
  EXPECT_THAT(store_->Accept(legal_aid_.member, cp.tree_size() - 1,
                             cp.note() + legal_aid_.Cosign(cp.note(), now_)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // Signed with this node's key but not of its log (a second history).
  client::CheckpointBody body;
  body.origin = node_->log().origin();
  body.tree_size = cp.tree_size();
  body.root_hash = std::string(32, 'x');
  const std::string text = client::FormatCheckpointBody(body);
  auto key = client::ParseVerifierKey(node_->log().VerifierKey());
  const std::string forked = absl::StrCat(
      text, "\n",
      client::FormatSignatureLine(key->name, key->key_id,
                                  node_->signer().SignToString(text)));
  EXPECT_THAT(store_->Accept(legal_aid_.member, cp.tree_size(),
                             forked + legal_aid_.Cosign(forked, now_)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(store_->Cosigned(1), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CosignatureStoreTest, KeepsOnlyTheNewestCheckpoints) {
  for (int i = 0; i < limits::kMaxCosignedCheckpoints + 3; ++i) {
    Append(1);
    const haven::v1::Checkpoint cp = Latest();
    ASSERT_THAT(store_->Accept(legal_aid_.member, cp.tree_size(),
                               cp.note() + legal_aid_.Cosign(cp.note(), now_)),
                IsOk());
  }
  int kept = 0;
  ASSERT_THAT(node_->storage().Scan(storage::Family::kMeta, "cosigned/",
                                    [&](absl::string_view, absl::string_view) {
                                      ++kept;
                                      return true;
                                    }),
              IsOk());
  EXPECT_EQ(kept, limits::kMaxCosignedCheckpoints);
  auto cosigned = store_->Cosigned(1);
  ASSERT_THAT(cosigned, IsOk());
  EXPECT_EQ(cosigned->tree_size(), Latest().tree_size());
}

}  // namespace
}  // namespace haven::server::exchange
