// RFC 6962 / RFC 9162 Merkle tree hashing and proof verification, in the
// vocabulary of transparency-dev/merkle.
//
// Hashes are 32-byte SHA-256 values held in std::string. Leaf hash:
// SHA-256(0x00 || leaf). Interior node: SHA-256(0x01 || left || right). A
// tree of n > 1 leaves splits at k, the largest power of two smaller than n.
// The empty tree's root is SHA-256 of the empty string.
//
// Every function here is pure and thread-safe. Proof lengths and hash sizes
// are checked before any hashing; every failure is an absl::Status whose
// message says what did not match.
#ifndef HAVEN_CLIENT_VERIFY_MERKLE_H_
#define HAVEN_CLIENT_VERIFY_MERKLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace haven::client {

// SHA-256(0x00 || leaf).
std::string HashLeaf(absl::string_view leaf);
// SHA-256(0x01 || left || right).
std::string HashChildren(absl::string_view left, absl::string_view right);
// The root of the empty tree: SHA-256("").
std::string EmptyRoot();

// Reference implementation: the Merkle tree hash (MTH) of the given leaf
// hashes, by the recursive definition of RFC 6962 section 2.1. O(n).
std::string RootFromLeafHashes(const std::vector<std::string>& leaf_hashes);

// Reference implementations of RFC 6962 PATH(index, D[size]) and
// PROOF(size1, D[size2]) over the first `size` leaf hashes. Used by tests and
// by tools that hold every leaf. Requires index < size <= leaf_hashes.size()
// and size1 <= size2 <= leaf_hashes.size(); INVALID_ARGUMENT otherwise.
absl::StatusOr<std::vector<std::string>> InclusionProofFromLeafHashes(
    const std::vector<std::string>& leaf_hashes, uint64_t index, uint64_t size);
absl::StatusOr<std::vector<std::string>> ConsistencyProofFromLeafHashes(
    const std::vector<std::string>& leaf_hashes, uint64_t size1,
    uint64_t size2);

// The root implied by an inclusion proof for `leaf_hash` at `index` in a tree
// of `size` leaves. Requires index < size; the proof must have exactly the
// length RFC 6962 implies for (index, size) and hold 32-byte hashes.
absl::StatusOr<std::string> RootFromInclusionProof(
    uint64_t index, uint64_t size, absl::string_view leaf_hash,
    const std::vector<std::string>& proof);

// OK if `proof` proves that `leaf_hash` is the leaf at `index` in the tree of
// `size` leaves whose root is `root`. Requires index < size.
absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             absl::string_view leaf_hash,
                             const std::vector<std::string>& proof,
                             absl::string_view root);

// OK if `proof` proves that the tree of size2 leaves with root `root2` extends
// the tree of size1 leaves with root `root1`. Requires size1 <= size2. For
// size1 == size2 the proof must be empty and the roots equal; for size1 == 0
// the proof must be empty (every tree extends the empty tree).
absl::Status VerifyConsistency(uint64_t size1, uint64_t size2,
                               const std::vector<std::string>& proof,
                               absl::string_view root1,
                               absl::string_view root2);

// Largest power of two strictly smaller than n. Requires n >= 2.
uint64_t SplitPoint(uint64_t n);

}  // namespace haven::client

#endif  // HAVEN_CLIENT_VERIFY_MERKLE_H_
