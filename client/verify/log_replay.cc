#include "client/verify/log_replay.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/verify/merkle.h"

namespace haven::client {
namespace {

// How far past the first unprovable leaf others are looked for.
constexpr uint64_t kBadLeafWindow = 64;

// Indices of the leaves whose node-supplied inclusion proof does not lead
// to `root`: the first, and any within kBadLeafWindow after it; empty if
// every proof checks (the node's proofs then disagree with its own leaves
// elsewhere, e.g. a stored tree hash was altered). More than one when the
// proofs were rewritten to match an altered leaf: its neighbours' proofs
// then carry its new hash, and nothing in the log tells which of them was
// altered, only that one of them was.
absl::StatusOr<std::vector<uint64_t>> BadLeaves(
    const std::vector<std::string>& hashes, const std::string& root,
    const InclusionProofSource& source) {
  const uint64_t size = hashes.size();
  std::vector<uint64_t> bad;
  for (uint64_t i = 0; i < size; ++i) {
    if (!bad.empty() && i > bad.front() + kBadLeafWindow) break;
    absl::StatusOr<std::vector<std::string>> proof = source(i, size);
    if (!proof.ok()) return proof.status();
    if (!VerifyInclusion(i, size, hashes[i], *proof, root).ok()) {
      bad.push_back(i);
    }
  }
  return bad;
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
    absl::StatusOr<NoteVerifierKey> trusted_key =
        input.trusted_verifier_key.empty()
            ? key
            : ParseVerifierKey(input.trusted_verifier_key);
    if (!trusted_key.ok()) return trusted_key.status();
    absl::StatusOr<CheckpointBody> t = VerifyCheckpoint(
        *input.trusted_checkpoint_note, *trusted_key, input.origin);
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
      absl::StatusOr<std::vector<uint64_t>> bad =
          BadLeaves(hashes, checkpoint->root_hash, input.inclusion_proof);
      if (bad.ok() && bad->size() == 1) {
        return absl::DataLossError(absl::StrCat(
            "leaf ", bad->front(),
            " does not match the signed checkpoint at size ",
            checkpoint->tree_size, " (first bad index ", bad->front(), ")"));
      }
      if (bad.ok() && !bad->empty()) {
        return absl::DataLossError(absl::StrCat(
            "leaves ", absl::StrJoin(*bad, ", "),
            " cannot be proven against the signed checkpoint at size ",
            checkpoint->tree_size,
            ": one of them was altered and the node's tree hashes rewritten "
            "to match (first bad index ",
            bad->front(), ")"));
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
