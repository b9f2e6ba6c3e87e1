// Signed checkpoints for the client verification tests: a fresh node key
// and a note over a tree of leaf hashes, signed as a node signs its
// checkpoints, under one test log origin.
#ifndef HAVEN_TESTS_UNIT_CLIENT_TEST_CHECKPOINTS_H_
#define HAVEN_TESTS_UNIT_CLIENT_TEST_CHECKPOINTS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "client/verify/merkle.h"
#include "client/verify/signed_note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/crypto/ed25519_signer.h"
#include "server/crypto/secret_bytes.h"
#include "tests/testing/status_matchers.h"

namespace haven::client::testing {

inline constexpr absl::string_view kOrigin = "test.haven.example/log";

// A node key from random bytes; null, with a test failure added, if that
// fails.
inline std::unique_ptr<server::crypto::Ed25519Signer> NewSigner() {
  auto signer = server::crypto::Ed25519Signer::FromSeed(
      server::crypto::SecretBytes::Random(32));
  EXPECT_THAT(signer, haven::testing::IsOk());
  return signer.ok() ? *std::move(signer) : nullptr;
}

// `signer`'s raw public key, as signed-note key ids and verifier keys take
// it.
inline std::string PublicKey(const server::crypto::Ed25519Signer& signer) {
  return std::string(signer.public_key().begin(), signer.public_key().end());
}

// The checkpoint note of the tree whose leaf hashes are `hashes`, under
// kOrigin, with one signature line by `signer`.
inline std::string SignedCheckpoint(const server::crypto::Ed25519Signer& signer,
                                    const std::vector<std::string>& hashes) {
  CheckpointBody body{
      std::string(kOrigin), hashes.size(), RootFromLeafHashes(hashes), {}};
  const std::string text = FormatCheckpointBody(body);
  return absl::StrCat(
      text, "\n",
      FormatSignatureLine(kOrigin, NoteKeyId(kOrigin, PublicKey(signer)),
                          signer.SignToString(text)));
}

}  // namespace haven::client::testing

#endif  // HAVEN_TESTS_UNIT_CLIENT_TEST_CHECKPOINTS_H_
