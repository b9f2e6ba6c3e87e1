// C2SP tlog-cosignature (cosignature/v1) lines: a fixed vector computed
// independently (Python `cryptography` Ed25519 from the seed 00 01 .. 1f, the
// checkpoint and time of the spec's example), round trips, and the ways a
// cosignature must fail.
#include "client/verify/cosignature.h"

#include <sodium.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "client/verify/signed_note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace haven::client {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;

constexpr absl::string_view kWitnessName = "witness.example/w1";
constexpr absl::string_view kWitnessKey =
    "witness.example/w1+e75f6532+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
constexpr absl::string_view kCheckpoint =
    "example.com/behind-the-sofa\n20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
constexpr uint64_t kTime = 1679315147;
constexpr absl::string_view kLine =
    "\xE2\x80\x94 witness.example/w1 "
    "519lMgAAAABkGFDLBuRDazBLVac2NE+Y+IjbjQOcXLfF9CSDZVUIoS83rE1nFZsVE8YiWV6Ngr"
    "7lV8H6bdoBQGP/l73euDMQ9k+bBQ==\n";

// An Ed25519 key pair from a fixed seed, signing as a witness would.
struct TestKey {
  explicit TestKey(unsigned char first) {
    unsigned char seed[crypto_sign_SEEDBYTES];
    for (size_t i = 0; i < crypto_sign_SEEDBYTES; ++i) {
      seed[i] = static_cast<unsigned char>(first + i);
    }
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    crypto_sign_seed_keypair(pk, sk, seed);
    public_key.assign(reinterpret_cast<char*>(pk), sizeof(pk));
  }
  std::string Sign(absl::string_view message) const {
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, nullptr,
                         reinterpret_cast<const unsigned char*>(message.data()),
                         message.size(), sk);
    return std::string(reinterpret_cast<char*>(sig), sizeof(sig));
  }
  std::string Cosign(absl::string_view name, absl::string_view text,
                     uint64_t time) const {
    return FormatCosignatureLine(name, CosignatureKeyId(name, public_key), time,
                                 Sign(CosignedMessage(text, time)));
  }
  NoteVerifierKey Key(absl::string_view name) const {
    return {std::string(name), CosignatureKeyId(name, public_key), public_key};
  }
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  std::string public_key;
};

// The checkpoint note as its log signed it, plus `lines`.
std::string LogNote(const TestKey& log_key, absl::string_view text,
                    absl::string_view lines = "") {
  const std::string name = "example.com/behind-the-sofa";
  return absl::StrCat(
      text, "\n",
      FormatSignatureLine(name, NoteKeyId(name, log_key.public_key),
                          log_key.Sign(text)),
      lines);
}

TEST(CosignatureTest, FixedVectorLineBytes) {
  ASSERT_GE(sodium_init(), 0);
  TestKey witness(0);
  EXPECT_EQ(CosignedMessage(kCheckpoint, kTime),
            absl::StrCat("cosignature/v1\ntime 1679315147\n", kCheckpoint));
  EXPECT_EQ(witness.Cosign(kWitnessName, kCheckpoint, kTime), kLine);
  auto formatted = FormatCosignatureKey(kWitnessName, witness.public_key);
  ASSERT_THAT(formatted, IsOk());
  EXPECT_EQ(*formatted, kWitnessKey);
  auto parsed = ParseCosignatureKey(kWitnessKey);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->key_id, 0xe75f6532u);
  EXPECT_EQ(parsed->public_key, witness.public_key);
}

TEST(CosignatureTest, NoteKeyIsNotAWitnessKey) {
  TestKey witness(0);
  auto note_key = FormatVerifierKey(kWitnessName, witness.public_key);
  ASSERT_THAT(note_key, IsOk());
  EXPECT_THAT(ParseCosignatureKey(*note_key),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseVerifierKey(kWitnessKey),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto parsed = ParseVerifierKey(*note_key);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(CosignatureKeyFor(*parsed).key_id, 0xe75f6532u);
}

TEST(CosignatureTest, CosignedNoteStillOpensWithTheLogKey) {
  TestKey log_key(100), witness(0);
  const std::string note = LogNote(
      log_key, kCheckpoint, witness.Cosign(kWitnessName, kCheckpoint, kTime));
  auto parsed = ParseNote(note);
  ASSERT_THAT(parsed, IsOk());
  ASSERT_EQ(parsed->signatures.size(), 2u);
  EXPECT_EQ(parsed->text, kCheckpoint);
  auto log_vkey = ParseVerifierKey(
      *FormatVerifierKey("example.com/behind-the-sofa", log_key.public_key));
  ASSERT_THAT(log_vkey, IsOk());
  auto body = VerifyCheckpoint(note, *log_vkey, "example.com/behind-the-sofa");
  ASSERT_THAT(body, IsOk());
  EXPECT_EQ(body->tree_size, 20852163u);
}

TEST(CosignatureTest, RoundTrip) {
  TestKey log_key(100), a(0), b(50);
  const std::string note =
      LogNote(log_key, kCheckpoint,
              absl::StrCat(a.Cosign("a.haven/log", kCheckpoint, kTime),
                           b.Cosign("b.haven/log", kCheckpoint, kTime + 1)));
  auto parsed = ParseNote(note);
  ASSERT_THAT(parsed, IsOk());
  auto time = VerifyCosignature(parsed->text, parsed->signatures[1],
                                a.Key("a.haven/log"));
  ASSERT_THAT(time, IsOk());
  EXPECT_EQ(*time, kTime);
  EXPECT_THAT(CountCosignatures(note, {a.Key("a.haven/log")}), IsOk());
  EXPECT_EQ(
      *CountCosignatures(note, {a.Key("a.haven/log"), b.Key("b.haven/log")}),
      2);
  // A key listed twice is one witness.
  EXPECT_EQ(
      *CountCosignatures(note, {b.Key("b.haven/log"), b.Key("b.haven/log")}),
      2);
}

TEST(CosignatureTest, WrongKeyIsNotCounted) {
  TestKey log_key(100), a(0), other(7);
  const std::string note = LogNote(log_key, kCheckpoint,
                                   a.Cosign("a.haven/log", kCheckpoint, kTime));
  auto parsed = ParseNote(note);
  ASSERT_THAT(parsed, IsOk());
  // Another key under the same name has another key id: not its line.
  EXPECT_THAT(VerifyCosignature(parsed->text, parsed->signatures[1],
                                other.Key("a.haven/log")),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(*CountCosignatures(note, {other.Key("a.haven/log")}), 0);
  // The log's own key is not a cosignature key.
  EXPECT_EQ(*CountCosignatures(note, {log_key.Key("a.haven/log")}), 0);
  // A forged line that claims the witness's key id but is signed by
  // another key fails outright.
  NoteVerifierKey forged = other.Key("a.haven/log");
  forged.key_id = a.Key("a.haven/log").key_id;
  const std::string forged_note = LogNote(
      log_key, kCheckpoint,
      FormatCosignatureLine("a.haven/log", forged.key_id, kTime,
                            other.Sign(CosignedMessage(kCheckpoint, kTime))));
  EXPECT_THAT(CountCosignatures(forged_note, {a.Key("a.haven/log")}),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(CosignatureTest, FlippedBitFails) {
  TestKey a(0);
  const std::string line = a.Cosign("a.haven/log", kCheckpoint, kTime);
  auto good = ParseNote(absl::StrCat(kCheckpoint, "\n", line));
  ASSERT_THAT(good, IsOk());
  const NoteSignature& sig = good->signatures[0];
  for (size_t byte = 0; byte < sig.signature.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      NoteSignature bad = sig;
      bad.signature[byte] ^= static_cast<char>(1 << bit);
      auto checked = VerifyCosignature(good->text, bad, a.Key("a.haven/log"));
      EXPECT_FALSE(checked.ok()) << "byte " << byte << " bit " << bit;
    }
  }
  // Each bit of the signed text matters too.
  std::string text(kCheckpoint);
  for (size_t byte = 0; byte < text.size(); ++byte) {
    std::string bad = text;
    bad[byte] ^= 0x01;
    EXPECT_THAT(VerifyCosignature(bad, sig, a.Key("a.haven/log")),
                StatusIs(absl::StatusCode::kDataLoss));
  }
}

TEST(CosignatureTest, WrongCheckpointFails) {
  TestKey log_key(100), a(0);
  const std::string other_text =
      "example.com/behind-the-sofa\n20852164\n"
      "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  // A cosignature of one checkpoint pasted under another.
  const std::string note =
      LogNote(log_key, other_text, a.Cosign("a.haven/log", kCheckpoint, kTime));
  EXPECT_THAT(CountCosignatures(note, {a.Key("a.haven/log")}),
              StatusIs(absl::StatusCode::kDataLoss));
  // Signed as a plain note (no cosignature/v1 header) it is no cosignature.
  const std::string plain = FormatCosignatureLine(
      "a.haven/log", a.Key("a.haven/log").key_id, kTime, a.Sign(kCheckpoint));
  EXPECT_THAT(CountCosignatures(LogNote(log_key, kCheckpoint, plain),
                                {a.Key("a.haven/log")}),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(CosignatureTest, WrongLengthIsRejected) {
  TestKey a(0);
  NoteSignature sig{"a.haven/log", a.Key("a.haven/log").key_id,
                    std::string(64, 'x')};
  EXPECT_THAT(VerifyCosignature(kCheckpoint, sig, a.Key("a.haven/log")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace haven::client
