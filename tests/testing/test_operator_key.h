// TestOperatorKey: a task force operator's federation signing key in a
// test, signing manifests as `havenctl federation sign` does (the same
// client::ManifestNoteText and signature lines), so that tests of nodes and
// of the registry need no subprocess. Not thread-safe.
#ifndef HAVEN_TESTS_TESTING_TEST_OPERATOR_KEY_H_
#define HAVEN_TESTS_TESTING_TEST_OPERATOR_KEY_H_

#include <memory>
#include <string>
#include <vector>

#include "server/crypto/ed25519_signer.h"

namespace haven::testing {

class TestOperatorKey {
 public:
  // A fresh random key named `name`.
  explicit TestOperatorKey(std::string name);

  const std::string& name() const { return name_; }
  // "name+keyid+base64", as a node's federation_verifier_keys holds it.
  const std::string& verifier_key() const { return verifier_key_; }

  // `manifest_text` (text format; the test fails if it does not parse)
  // signed as a new note by this key.
  std::string Sign(const std::string& manifest_text) const;
  // `note` with this key's signature line added (k of n).
  std::string AddSignature(const std::string& note) const;

 private:
  std::string name_;
  std::unique_ptr<server::crypto::Ed25519Signer> signer_;
  std::string verifier_key_;
};

// Config lines trusting `keys`, `required` of them ("" for none).
std::string FederationTrustConfig(
    const std::vector<const TestOperatorKey*>& keys, int required = 1);

}  // namespace haven::testing

#endif  // HAVEN_TESTS_TESTING_TEST_OPERATOR_KEY_H_
