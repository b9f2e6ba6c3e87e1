// Offline proof bundles: one audit entry with everything needed to check,
// with no node, that it is in the node's signed log. The file format is
// specified in client/verify/proof_bundle.md; in short, one line of JSON in
// exactly this form (no other spacing, key order or encoding is accepted):
//
//   {"format":"haven-proof-bundle/v1","leaf_index":N,"tree_size":M,
//    "leaf":"<base64>","inclusion_proof":["<hex>",...],
//    "checkpoint":"<base64>","checkpoint_sha256":"<hex>"}\n
//
// Parsing is strict so that a bundle has exactly one encoding: a file that
// is not byte for byte the canonical form of what it holds is refused.
// Together with the signature, the RFC 6962 leaf hash, the inclusion proof
// and a digest over the checkpoint note (which may carry signature lines
// by keys the checker does not hold), flipping any single bit of a valid
// bundle makes it fail.
//
// Pure functions; thread-safe.
#ifndef HAVEN_CLIENT_VERIFY_PROOF_BUNDLE_H_
#define HAVEN_CLIENT_VERIFY_PROOF_BUNDLE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/verify/signed_note.h"
#include "haven/v1/audit.pb.h"

namespace haven::client {

// The value of the bundle's "format" key.
inline constexpr absl::string_view kProofBundleFormat = "haven-proof-bundle/v1";
// Files larger than this are refused before parsing: a 4 MiB leaf (the
// largest a node sends) in base64, a 16 KiB note and 64 proof hashes fit.
inline constexpr size_t kMaxProofBundleBytes = 8 << 20;

// What a bundle holds, decoded.
struct ProofBundle {
  uint64_t leaf_index = 0;
  uint64_t tree_size = 0;
  std::string leaf;  // the leaf bytes exactly as hashed into the tree
  std::vector<std::string> inclusion_proof;  // 32-byte hashes
  std::string checkpoint_note;  // the signed note verbatim, every signature
};

// The canonical file text of `bundle`, ending in "\n". Requires 32-byte
// proof hashes.
std::string FormatProofBundle(const ProofBundle& bundle);

// Parses bundle file text. INVALID_ARGUMENT naming the first problem: too
// large, not the canonical form (spacing, key order, unknown, duplicate or
// missing keys, trailing data), a non-canonical number, hex or base64, a
// hash that is not 32 bytes, a wrong format value, or a checkpoint digest
// that does not match the note. Checks no signature or proof.
absl::StatusOr<ProofBundle> ParseProofBundle(absl::string_view text);

// What a verified bundle proves.
struct VerifiedProofBundle {
  uint64_t leaf_index = 0;
  CheckpointBody checkpoint;    // signed by the node key
  haven::v1::AuditEntry entry;  // the leaf, parsed
  // Names on the note's signature lines other than the node key's (for
  // example witness cosignatures), which this check does not verify.
  std::vector<std::string> other_signers;
};

// Parses `text` and checks, in order: the note's signature by `key`; the
// checkpoint body; tree_size equals the checkpoint's size; leaf_index <
// tree_size; the leaf hash (RFC 6962) and inclusion proof against the
// checkpoint's root; and that the leaf is an AuditEntry. Errors:
// INVALID_ARGUMENT for a malformed bundle or note, NOT_FOUND if no
// signature is by `key`, DATA_LOSS for a bad signature, proof or leaf.
absl::StatusOr<VerifiedProofBundle> VerifyProofBundle(
    absl::string_view text, const NoteVerifierKey& key);

}  // namespace haven::client

#endif  // HAVEN_CLIENT_VERIFY_PROOF_BUNDLE_H_
