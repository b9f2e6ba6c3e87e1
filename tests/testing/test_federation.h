// TestFederation: several TestNodes that know each other as a task force
// runs them: one CA, a certificate per agency, each node's peer endpoint and
// signing key in one shared federation manifest, and each node's sharing
// policy.
//
// The manifest must name every peer endpoint and verifier key before the
// nodes start, so peer ports are picked up front (bound to port 0 on
// 127.0.0.1, read back and released) and each node's key is read from
// `havend --init`. Everything lives under a directory the test owns; the
// destructor kills the nodes still running. Not thread-safe.
#ifndef HAVEN_TESTS_TESTING_TEST_FEDERATION_H_
#define HAVEN_TESTS_TESTING_TEST_FEDERATION_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/testing/test_node.h"
#include "tests/testing/test_operator_key.h"

namespace haven::testing {

class TestFederation {
 public:
  struct Member {
    std::string agency_id;
    // A haven.v1.Sector value name, e.g. "LEGAL_SERVICES".
    std::string sector;
    // The node's sharing policy; empty for none.
    std::string policy_file;
  };

  // Files go under `root_dir`: pki/, federation.textproto and one directory
  // per agency.
  explicit TestFederation(std::string root_dir);
  ~TestFederation();
  TestFederation(const TestFederation&) = delete;
  TestFederation& operator=(const TestFederation&) = delete;

  // Text appended to every node's config (e.g. metrics_listen_address);
  // set before Create.
  void set_extra_config(std::string text) { extra_config_ = std::move(text); }

  // Makes the CA and certificates, picks the peer ports, writes each node's
  // files, runs `havend --init` for each and writes the manifest with every
  // member active. Does not start anything. Returns false (and fills
  // `error`) on failure.
  bool Create(const std::vector<Member>& members, std::string* error);
  // Starts every node, in the order given to Create.
  bool Start(std::string* error);

  // The node of `agency_id`; it must be a member.
  TestNode& node(const std::string& agency_id) const;
  const std::string& pki_dir() const { return pki_dir_; }
  const std::string& manifest_path() const { return manifest_path_; }
  // The text of the manifest last written, before it was signed.
  const std::string& manifest_text() const { return manifest_text_; }
  // Signs `text` (text format) with the operator key every node trusts and
  // writes it as the manifest file (as an operator hands one to a node).
  void WriteManifest(const std::string& text);
  // The task force operator's key; every node's config trusts it alone.
  const TestOperatorKey& operator_key() const { return operator_key_; }
  // The signed-note verifier key `havend --init` printed for `agency_id`.
  std::string verifier_key(const std::string& agency_id) const;
  // The node's master key file (its signing key derives from it).
  std::string master_key_file(const std::string& agency_id) const;

 private:
  std::string root_dir_;
  std::string pki_dir_;
  std::string manifest_path_;
  std::string manifest_text_;
  TestOperatorKey operator_key_{"test-operator"};
  std::string extra_config_;
  std::vector<Member> members_;
  std::map<std::string, std::unique_ptr<TestNode>> nodes_;
  std::map<std::string, std::string> verifier_keys_;
};

// A member of `sector` running its agency's example sharing policy,
// policy/examples/<agency_id>.textproto (safe-harbor, legal-aid and metro-pd
// have one): the federation most end-to-end tests run.
TestFederation::Member ExampleMember(const std::string& agency_id,
                                     const std::string& sector);

// Picks `count` distinct free TCP ports on 127.0.0.1. They are released
// before returning, so another process may take one in the meantime; tests
// start their nodes right after. Returns an empty vector on failure.
std::vector<int> PickFreeLoopbackPorts(int count);

}  // namespace haven::testing

#endif  // HAVEN_TESTS_TESTING_TEST_FEDERATION_H_
