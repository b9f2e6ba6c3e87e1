#include "client/verify/signed_batch.h"

#include <string>
#include <vector>

#include "client/verify/crypto.h"
#include "client/verify/signed_note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/crypto/ed25519_signer.h"
#include "tests/testing/status_matchers.h"

namespace haven::client {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;

std::unique_ptr<server::crypto::Ed25519Signer> SignerFrom(uint8_t fill) {
  server::crypto::SecretBytes seed(server::crypto::Ed25519Signer::kSeedSize);
  for (size_t i = 0; i < seed.size(); ++i) seed.mutable_data()[i] = fill;
  return *server::crypto::Ed25519Signer::FromSeed(seed);
}

std::string VerifierKeyOf(const server::crypto::Ed25519Signer& signer) {
  return *FormatVerifierKey(
      "safe-harbor.haven/log",
      std::string(signer.public_key().begin(), signer.public_key().end()));
}

// Three answers of one batch, signed by `signer` under `context`.
class SignedBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* id : {"r1", "r2", "r3"}) {
      haven::v1::DisclosureAnswer answer;
      answer.set_request_id(id);
      answer.mutable_disclosure()->set_request_id(id);
      answers_.Add(answer.SerializeAsString());
    }
    holder_ = SignerFrom(1);
    other_ = SignerFrom(2);
  }

  haven::v1::SignedDisclosure Signed(
      int index, const server::crypto::Ed25519Signer& signer,
      absl::string_view context = kAnswerBatchContext) const {
    const std::vector<std::string> digests = BatchDigests(answers_);
    haven::v1::SignedDisclosure out;
    out.set_answer(answers_[index]);
    for (const auto& d : digests) out.add_batch_sha256(d);
    out.set_batch_index(index);
    out.set_signature(signer.SignToString(BatchMessage(context, digests)));
    return out;
  }

  google::protobuf::RepeatedPtrField<std::string> answers_;
  std::unique_ptr<server::crypto::Ed25519Signer> holder_;
  std::unique_ptr<server::crypto::Ed25519Signer> other_;
};

TEST_F(SignedBatchTest, MessageIsContextThenEachDigestInOrder) {
  const std::vector<std::string> digests = BatchDigests(answers_);
  ASSERT_EQ(digests.size(), 3u);
  EXPECT_EQ(digests[1], Sha256(answers_[1]));
  EXPECT_EQ(
      BatchMessage(kAnswerBatchContext, digests),
      std::string(kAnswerBatchContext) + digests[0] + digests[1] + digests[2]);
}

TEST_F(SignedBatchTest, EachAnswerVerifiesAlone) {
  for (int i = 0; i < 3; ++i) {
    auto answer = VerifySignedDisclosure(VerifierKeyOf(*holder_),
                                         Signed(i, *holder_), "safe-harbor");
    ASSERT_THAT(answer, IsOk()) << i;
    EXPECT_EQ(answer->request_id(), "r" + std::to_string(i + 1));
  }
}

TEST_F(SignedBatchTest, AlteredAnswerFails) {
  auto signed_answer = Signed(1, *holder_);
  signed_answer.mutable_answer()->back() ^= 0x01;
  EXPECT_THAT(VerifySignedDisclosure(VerifierKeyOf(*holder_), signed_answer,
                                     "safe-harbor"),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(SignedBatchTest, AnswerShownAtAnotherPlaceFails) {
  auto signed_answer = Signed(1, *holder_);
  signed_answer.set_batch_index(2);
  EXPECT_THAT(VerifySignedDisclosure(VerifierKeyOf(*holder_), signed_answer,
                                     "safe-harbor"),
              StatusIs(absl::StatusCode::kDataLoss));
  signed_answer.set_batch_index(3);  // past the end
  EXPECT_THAT(VerifySignedDisclosure(VerifierKeyOf(*holder_), signed_answer,
                                     "safe-harbor"),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(SignedBatchTest, AlteredDigestOfAnotherAnswerFails) {
  auto signed_answer = Signed(0, *holder_);
  (*signed_answer.mutable_batch_sha256(2))[5] ^= 0x01;
  EXPECT_THAT(VerifySignedDisclosure(VerifierKeyOf(*holder_), signed_answer,
                                     "safe-harbor"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  signed_answer = Signed(0, *holder_);
  signed_answer.mutable_batch_sha256(2)->pop_back();
  EXPECT_THAT(VerifySignedDisclosure(VerifierKeyOf(*holder_), signed_answer,
                                     "safe-harbor"),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(SignedBatchTest, AnotherKeyOrAnotherKindOfBatchFails) {
  EXPECT_THAT(VerifySignedDisclosure(VerifierKeyOf(*holder_),
                                     Signed(0, *other_), "safe-harbor"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  // A signature over a request batch is no signature over answers.
  EXPECT_THAT(VerifySignedDisclosure(VerifierKeyOf(*holder_),
                                     Signed(0, *holder_, kRequestBatchContext),
                                     "safe-harbor"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(
      VerifySignedDisclosure("not a key", Signed(0, *holder_), "safe-harbor"),
      StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace haven::client
