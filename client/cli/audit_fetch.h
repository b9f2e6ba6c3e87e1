// What the audit commands fetch from a node, and the checks that make it
// trustworthy: the checkpoint against the key the node sent, proofs
// against the signed root. A node error comes back as the status; a check
// that fails is set in `verify_error` (reported with exit 4) and the
// status is ABORTED. Thread-safe as NodeClient is.
#ifndef HAVEN_CLIENT_CLI_AUDIT_FETCH_H_
#define HAVEN_CLIENT_CLI_AUDIT_FETCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/node_client.h"
#include "client/verify/signed_note.h"
#include "google/protobuf/repeated_field.h"

namespace haven::client::cli {

// The node's checkpoint, checked against the key it sent. `body` gets the
// verified body.
struct VerifiedCheckpoint {
  haven::v1::GetCheckpointResponse response;
  CheckpointBody body;
};

absl::StatusOr<haven::v1::GetCheckpointResponse> FetchCheckpoint(
    const NodeClient& client);

// Fetches the checkpoint; on a node error returns that status, on a bad
// signature returns it in `verify_error` (exit 4).
absl::StatusOr<VerifiedCheckpoint> FetchVerifiedCheckpoint(
    const NodeClient& client, absl::Status* verify_error);

absl::StatusOr<haven::v1::InclusionProof> FetchInclusionProof(
    const NodeClient& client, uint64_t index, uint64_t size);
absl::StatusOr<haven::v1::ConsistencyProof> FetchConsistencyProof(
    const NodeClient& client, uint64_t old_size, uint64_t new_size);

// The root of the tree of `size` leaves, proven against the verified
// checkpoint: the checkpoint's own root, or the old root of a consistency
// proof from `size` to the checkpoint's size that verifies. Node errors come
// back as the status; a proof that fails sets `verify_error`.
absl::StatusOr<std::string> ProvenRootAt(const NodeClient& client,
                                         const CheckpointBody& checkpoint,
                                         uint64_t size,
                                         absl::Status* verify_error);

// A proof's hashes as the verifiers take them.
std::vector<std::string> ToVector(
    const google::protobuf::RepeatedPtrField<std::string>& hashes);

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_AUDIT_FETCH_H_
