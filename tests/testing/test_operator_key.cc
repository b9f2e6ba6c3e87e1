#include "tests/testing/test_operator_key.h"

#include "absl/strings/str_cat.h"
#include "client/verify/signed_manifest.h"
#include "client/verify/signed_note.h"
#include "gtest/gtest.h"

namespace haven::testing {

TestOperatorKey::TestOperatorKey(std::string name) : name_(std::move(name)) {
  auto signer = server::crypto::Ed25519Signer::FromSeed(
      server::crypto::SecretBytes::Random(
          server::crypto::Ed25519Signer::kSeedSize));
  EXPECT_TRUE(signer.ok()) << signer.status();
  signer_ = *std::move(signer);
  const auto& key = signer_->public_key();
  auto vkey = client::FormatVerifierKey(
      name_,
      std::string(reinterpret_cast<const char*>(key.data()), key.size()));
  EXPECT_TRUE(vkey.ok()) << vkey.status();
  verifier_key_ = vkey.ok() ? *vkey : "";
}

std::string TestOperatorKey::Sign(const std::string& manifest_text) const {
  auto manifest = client::ParseManifestText(manifest_text, "test manifest");
  EXPECT_TRUE(manifest.ok()) << manifest.status();
  if (!manifest.ok()) return "";
  return AddSignature(client::ManifestNoteText(*manifest) + "\n");
}

std::string TestOperatorKey::AddSignature(const std::string& note) const {
  // The signed text ends at the blank line before the signature lines (a
  // note with none yet is its text and that blank line).
  const size_t split = note.rfind("\n\n");
  EXPECT_NE(split, std::string::npos) << "not a manifest note";
  const std::string text = note.substr(0, split + 1);
  const auto& key = signer_->public_key();
  const std::string public_key(reinterpret_cast<const char*>(key.data()),
                               key.size());
  return note + client::FormatSignatureLine(
                    name_, client::NoteKeyId(name_, public_key),
                    signer_->SignToString(text));
}

std::string FederationTrustConfig(
    const std::vector<const TestOperatorKey*>& keys, int required) {
  std::string config;
  for (const TestOperatorKey* key : keys) {
    absl::StrAppend(&config, "federation_verifier_keys: \"",
                    key->verifier_key(), "\"\n");
  }
  if (required > 1) {
    absl::StrAppend(&config, "federation_signatures_required: ", required,
                    "\n");
  }
  return config;
}

}  // namespace haven::testing
