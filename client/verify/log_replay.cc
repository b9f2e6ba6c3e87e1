#include "client/verify/log_replay.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/verify/merkle.h"

namespace haven::client {
namespace {

// Index of the first leaf whose node-supplied inclusion proof does not lead
// to `root`, or -1 if every proof checks (the node's proofs then disagree
// with its own leaves elsewhere, e.g. a stored tree hash was altered).
absl::StatusOr<int64_t> FirstBadLeaf(const std::vector<std::string>& hashes,
                                     const std::string& root,
                                     const InclusionProofSource& source) {
  uint64_t size = hashes.size();
  for (uint64_t i = 0; i < size; ++i) {
    absl::StatusOr<std::vector<std::string>> proof = source(i, size);
    if (!proof.ok()) return proof.status();
    if (!VerifyInclusion(i, size, hashes[i], *proof, root).ok()) {
      return static_cast<int64_t>(i);
    }
  }
  return -1;
}

}  // namespace

absl::StatusOr<CheckpointBody> VerifyLogReplay(const ReplayInput& input) {
  absl::StatusOr<NoteVerifierKey> key = ParseVerifierKey(input.verifier_key);
  if (!key.ok()) return key.status();
  absl::StatusOr<CheckpointBody> checkpoint =
      VerifyCheckpoint(input.checkpoint_note, *key, input.origin);
  if (!checkpoint.ok()) {
    return absl::Status(
        checkpoint.status().code(),
        absl::StrCat("latest checkpoint: ", checkpoint.status().message()));
  }
  std::optional<CheckpointBody> trusted;
  if (input.trusted_checkpoint_note.has_value()) {
    absl::StatusOr<CheckpointBody> t =
        VerifyCheckpoint(*input.trusted_checkpoint_note, *key, input.origin);
    if (!t.ok()) {
      return absl::Status(
          t.status().code(),
          absl::StrCat("trusted checkpoint: ", t.status().message()));
    }
    trusted = *std::move(t);
    if (trusted->tree_size > checkpoint->tree_size) {
      return absl::DataLossError(absl::StrCat(
          "log is not consistent with the trusted checkpoint: it has ",
          checkpoint->tree_size, " entries but the trusted checkpoint has ",
          trusted->tree_size, " (entries were removed)"));
    }
  }
  if (input.leaves.size() != checkpoint->tree_size) {
    return absl::DataLossError(
        absl::StrCat("checkpoint covers ", checkpoint->tree_size,
                     " entries but ", input.leaves.size(), " were read"));
  }

  std::vector<std::string> hashes;
  hashes.reserve(input.leaves.size());
  for (const std::string& leaf : input.leaves) hashes.push_back(HashLeaf(leaf));

  std::string root = RootFromLeafHashes(hashes);
  if (root != checkpoint->root_hash) {
    if (input.inclusion_proof) {
      absl::StatusOr<int64_t> bad =
          FirstBadLeaf(hashes, checkpoint->root_hash, input.inclusion_proof);
      if (bad.ok() && *bad >= 0) {
        return absl::DataLossError(absl::StrCat(
            "leaf ", *bad, " does not match the signed checkpoint at size ",
            checkpoint->tree_size, " (first bad index ", *bad, ")"));
      }
    }
    return absl::DataLossError(absl::StrCat(
        "the ", checkpoint->tree_size, " entries hash to ",
        absl::BytesToHexString(root), " but the signed checkpoint says ",
        absl::BytesToHexString(checkpoint->root_hash)));
  }
  // The log must extend the trusted checkpoint: the prefix it covers must be
  // unchanged (checked after the root, so an altered leaf is named first).
  if (trusted.has_value()) {
    std::vector<std::string> prefix(hashes.begin(),
                                    hashes.begin() + trusted->tree_size);
    std::string old_root = RootFromLeafHashes(prefix);
    if (old_root != trusted->root_hash) {
      return absl::DataLossError(absl::StrCat(
          "log is not consistent with the trusted checkpoint at size ",
          trusted->tree_size, ": its first ", trusted->tree_size,
          " entries hash to ", absl::BytesToHexString(old_root), ", want ",
          absl::BytesToHexString(trusted->root_hash)));
    }
  }

  return checkpoint;
}

}  // namespace haven::client
