// Signed notes and checkpoints. The PeterNeumann key and note are the
// published example of golang.org/x/mod/sumdb/note (note_test.go): a note a
// standard implementation produced.
#include "client/verify/signed_note.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace haven::client {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;

constexpr absl::string_view kGoVerifierKey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr absl::string_view kGoText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr absl::string_view kGoSigLine =
    "\xE2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnA"
    "M=\n";

std::string GoNote() { return absl::StrCat(kGoText, "\n", kGoSigLine); }

TEST(SignedNoteTest, ParsesGoReferenceVerifierKey) {
  auto key = ParseVerifierKey(kGoVerifierKey);
  ASSERT_THAT(key, IsOk());
  EXPECT_EQ(key->name, "PeterNeumann");
  EXPECT_EQ(key->key_id, 0xc74f20a3u);
  EXPECT_EQ(key->public_key.size(), 32u);
  EXPECT_EQ(NoteKeyId(key->name, key->public_key), 0xc74f20a3u);
  auto formatted = FormatVerifierKey(key->name, key->public_key);
  ASSERT_THAT(formatted, IsOk());
  EXPECT_EQ(*formatted, kGoVerifierKey);
}

TEST(SignedNoteTest, MangledVerifierKeysAreRejected) {
  std::string vkey(kGoVerifierKey);
  // Every proper substring and every single-byte change must fail, as in the
  // reference implementation's test.
  for (size_t i = 0; i <= vkey.size(); ++i) {
    for (size_t j = i + 1; j <= vkey.size(); ++j) {
      if (i == 0 && j == vkey.size()) continue;
      EXPECT_FALSE(ParseVerifierKey(vkey.substr(i, j - i)).ok())
          << vkey.substr(i, j - i);
    }
  }
  for (size_t i = 0; i < vkey.size(); ++i) {
    std::string bad = vkey;
    bad[i]++;
    EXPECT_FALSE(ParseVerifierKey(bad).ok()) << bad;
  }
}

TEST(SignedNoteTest, GoReferenceNoteVerifies) {
  auto key = ParseVerifierKey(kGoVerifierKey);
  ASSERT_THAT(key, IsOk());
  auto text = OpenNote(GoNote(), *key);
  ASSERT_THAT(text, IsOk());
  EXPECT_EQ(*text, kGoText);
}

TEST(SignedNoteTest, AlteredTextFailsVerification) {
  auto key = ParseVerifierKey(kGoVerifierKey);
  ASSERT_THAT(key, IsOk());
  std::string note =
      absl::StrReplaceAll(GoNote(), {{"cryptography", "cryptographY"}});
  EXPECT_THAT(OpenNote(note, *key), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(SignedNoteTest, NoteWithoutMatchingKeyIsNotFound) {
  auto key = ParseVerifierKey(kGoVerifierKey);
  ASSERT_THAT(key, IsOk());
  key->name = "SomeoneElse";
  EXPECT_THAT(OpenNote(GoNote(), *key), StatusIs(absl::StatusCode::kNotFound));
}

TEST(SignedNoteTest, MalformedNotesAreRejected) {
  const std::string good = GoNote();
  std::vector<std::string> bad = {
      "",
      std::string(kGoText),               // no signatures
      absl::StrCat(kGoText, kGoSigLine),  // no blank line
      absl::StrCat(kGoText, "\n"),        // empty signature block
      good.substr(0, good.size() - 1),    // no final newline
      absl::StrCat(kGoText, "\n- PeterNeumann x08go/ZJ==\n"),  // ASCII dash
      absl::StrCat(kGoText, "\n\xE2\x80\x94 PeterNeumann\n"),  // no signature
      absl::StrCat(kGoText, "\n\xE2\x80\x94 Peter+Neumann AAAAAAA=\n"),
      absl::StrCat(kGoText, "\n\xE2\x80\x94 PeterNeumann AAAA\n"),  // < 5 bytes
      absl::StrCat("tab\there\n\n", kGoSigLine),      // control character
      absl::StrCat("bad \xFF utf8\n\n", kGoSigLine),  // invalid UTF-8
  };
  for (const std::string& note : bad) {
    EXPECT_THAT(ParseNote(note), StatusIs(absl::StatusCode::kInvalidArgument))
        << note;
  }
  EXPECT_THAT(ParseNote(good), IsOk());
}

TEST(SignedNoteTest, CheckpointBodyRoundTrips) {
  CheckpointBody body;
  body.origin = "agency-a.haven.example/log";
  body.tree_size = 12345;
  body.root_hash = std::string(32, '\x7f');
  std::string text = FormatCheckpointBody(body);
  EXPECT_EQ(text, absl::StrCat("agency-a.haven.example/log\n12345\n",
                               absl::Base64Escape(body.root_hash), "\n"));
  auto parsed = ParseCheckpointBody(text);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->origin, body.origin);
  EXPECT_EQ(parsed->tree_size, body.tree_size);
  EXPECT_EQ(parsed->root_hash, body.root_hash);
}

TEST(SignedNoteTest, MalformedCheckpointBodiesAreRejected) {
  std::string root = absl::Base64Escape(std::string(32, 'x'));
  for (const std::string& text : {
           absl::StrCat("origin\n12\n", root),         // no final newline
           absl::StrCat("origin\n012\n", root, "\n"),  // leading zero
           absl::StrCat("origin\n-1\n", root, "\n"),   // sign
           absl::StrCat("origin\n+1\n", root, "\n"),   // sign
           absl::StrCat("origin\n1\n", "AAAA", "\n"),  // root too short
           absl::StrCat("origin\n1\n\n"),              // empty root
           std::string("origin\n1\n"),                 // missing root
           absl::StrCat("\n1\n", root, "\n"),          // empty origin
       }) {
    EXPECT_THAT(ParseCheckpointBody(text),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << text;
  }
}

}  // namespace
}  // namespace haven::client
