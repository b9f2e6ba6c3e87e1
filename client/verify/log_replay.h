// VerifyLogReplay: the auditor's full check of an audit log.
//
// Given every leaf, the node's latest checkpoint, its verifier key and
// optionally a checkpoint the auditor trusted earlier, recompute every leaf
// hash and the root, check the checkpoint's signature, and check that the log
// still extends the trusted checkpoint (like a CT monitor). Pure; thread-safe.
#ifndef HAVEN_CLIENT_VERIFY_LOG_REPLAY_H_
#define HAVEN_CLIENT_VERIFY_LOG_REPLAY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/verify/signed_note.h"

namespace haven::client {

// Fetches the node's inclusion proof for (index, size). Only used after the
// recomputed root disagrees with the checkpoint, to name the first leaf that
// is not the one the node committed to (its stored tree hashes still commit
// to the original leaf). Called for leaves in index order until one fails, so
// up to n calls on that failure path only.
using InclusionProofSource =
    std::function<absl::StatusOr<std::vector<std::string>>(uint64_t index,
                                                           uint64_t size)>;

struct ReplayInput {
  // Leaf bytes, index 0 first; must be exactly the checkpoint's tree size.
  std::vector<std::string> leaves;
  std::string checkpoint_note;
  std::string verifier_key;
  // Expected origin; empty accepts any.
  std::string origin;
  // A checkpoint note verified earlier; the log must extend it.
  std::optional<std::string> trusted_checkpoint_note;
  // Optional, see InclusionProofSource.
  InclusionProofSource inclusion_proof;
  // The key that signed trusted_checkpoint_note when the node's signing key
  // was rotated since (client/verify/key_switch.h); empty: verifier_key.
  std::string trusted_verifier_key;
};

// Checks run in this order: signatures, leaf count, root (naming the first
// bad leaf), then consistency with the trusted checkpoint.
// Returns the verified checkpoint body (a new trusted state). Errors:
//   INVALID_ARGUMENT / NOT_FOUND / DATA_LOSS from note and key checks;
//   DATA_LOSS "leaf N ..." naming the first bad index when the leaves do not
//     hash to the checkpoint root (index named only when `inclusion_proof` is
//     given; otherwise the message says the root differs), or "leaves N, M
//     ..." when the node rewrote its tree hashes to match an altered leaf,
//     so that the proofs of the leaves next to it fail too;
//   DATA_LOSS "... not consistent with the trusted checkpoint ..." when the
//     log shrank or its first trusted-size leaves changed;
//   DATA_LOSS when the leaf count differs from the checkpoint's size.
absl::StatusOr<CheckpointBody> VerifyLogReplay(const ReplayInput& input);

}  // namespace haven::client

#endif  // HAVEN_CLIENT_VERIFY_LOG_REPLAY_H_
