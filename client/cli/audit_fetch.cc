#include "client/cli/audit_fetch.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "client/cli/node_call.h"
#include "client/verify/merkle.h"

namespace haven::client::cli {

std::vector<std::string> ToVector(
    const google::protobuf::RepeatedPtrField<std::string>& hashes) {
  return std::vector<std::string>(hashes.begin(), hashes.end());
}

absl::StatusOr<haven::v1::GetCheckpointResponse> FetchCheckpoint(
    const NodeClient& client) {
  return client.GetCheckpoint(haven::v1::GetCheckpointRequest());
}

absl::StatusOr<VerifiedCheckpoint> FetchVerifiedCheckpoint(
    const NodeClient& client, absl::Status* verify_error) {
  auto response = FetchCheckpoint(client);
  if (!response.ok()) return response.status();
  VerifiedCheckpoint out;
  out.response = *std::move(response);
  auto key = ParseVerifierKey(out.response.verifier_key());
  if (!key.ok()) {
    *verify_error = key.status();
    return absl::AbortedError("verification failed");
  }
  auto body = VerifyCheckpoint(out.response.checkpoint().note(), *key,
                               out.response.checkpoint().origin());
  if (!body.ok()) {
    *verify_error = body.status();
    return absl::AbortedError("verification failed");
  }
  out.body = *std::move(body);
  return out;
}

absl::StatusOr<haven::v1::InclusionProof> FetchInclusionProof(
    const NodeClient& client, uint64_t index, uint64_t size) {
  haven::v1::GetInclusionProofRequest request;
  request.set_leaf_index(index);
  request.set_tree_size(size);
  return PartOf(client.GetInclusionProof(request),
                [](const auto& response) { return response.proof(); });
}

absl::StatusOr<haven::v1::ConsistencyProof> FetchConsistencyProof(
    const NodeClient& client, uint64_t old_size, uint64_t new_size) {
  haven::v1::GetConsistencyProofRequest request;
  request.set_old_size(old_size);
  request.set_new_size(new_size);
  return PartOf(client.GetConsistencyProof(request),
                [](const auto& response) { return response.proof(); });
}

absl::StatusOr<std::string> ProvenRootAt(const NodeClient& client,
                                         const CheckpointBody& checkpoint,
                                         uint64_t size,
                                         absl::Status* verify_error) {
  if (size == checkpoint.tree_size) return checkpoint.root_hash;
  if (size > checkpoint.tree_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("size ", size, " is beyond the latest checkpoint (",
                     checkpoint.tree_size, " entries)"));
  }
  auto proof = FetchConsistencyProof(client, size, checkpoint.tree_size);
  if (!proof.ok()) return proof.status();
  absl::Status s =
      VerifyConsistency(size, checkpoint.tree_size, ToVector(proof->hashes()),
                        proof->old_root(), checkpoint.root_hash);
  if (!s.ok()) {
    *verify_error = s;
    return absl::AbortedError("verification failed");
  }
  return proof->old_root();
}

}  // namespace haven::client::cli
