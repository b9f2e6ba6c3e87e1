// Node setup: everything a new agency node needs before its certificate
// exists, made in one step in a new directory, and what to hand the task
// force's operator.
//
// SetUpNode(dir, agency_id) makes, in `dir` (absent or empty):
//   data/            the RocksDB directory (mode 0700)
//   master.key       the master key (mode 0600); the node's audit-signing
//                    key is derived from it
//   node.key         the TLS private key, ECDSA P-256 (mode 0600)
//   node.csr         a certificate signing request for the task-force CA:
//                    CN and subjectAltName DNS are the agency id
//   admin.token      a bearer token for the node's admin (mode 0600); the
//                    config holds only its SHA-256
//   node.textproto   the config, naming the files above and node.crt and
//                    ca.crt, which the operator issues
// It refuses a directory that holds anything, and changes nothing then.
// Not thread-safe (run once, from havend --setup).
#ifndef HAVEN_SERVER_NODE_NODE_SETUP_H_
#define HAVEN_SERVER_NODE_NODE_SETUP_H_

#include <string>

#include "absl/status/statusor.h"

namespace haven::server::node {

struct NodeSetup {
  std::string config_path;
  // PEM certificate signing request, for the task-force CA.
  std::string csr_pem;
  // The node's signed-note verifier key, for the federation manifest.
  std::string verifier_key;
};

// ALREADY_EXISTS (naming what is there) if `dir` exists and is not empty;
// INVALID_ARGUMENT for an agency id that is not [a-z0-9-]{1,63}.
absl::StatusOr<NodeSetup> SetUpNode(const std::string& dir,
                                    const std::string& agency_id);

}  // namespace haven::server::node

#endif  // HAVEN_SERVER_NODE_NODE_SETUP_H_
