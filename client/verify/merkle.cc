#include "client/verify/merkle.h"

#include <bit>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/verify/crypto.h"

namespace haven::client {
namespace {

// MTH over leaf_hashes[begin, end). Requires begin < end.
std::string SubtreeRoot(const std::vector<std::string>& hashes, uint64_t begin,
                        uint64_t end) {
  if (end - begin == 1) return hashes[begin];
  uint64_t k = SplitPoint(end - begin);
  return HashChildren(SubtreeRoot(hashes, begin, begin + k),
                      SubtreeRoot(hashes, begin + k, end));
}

// PATH(m, D[begin, end)), appended to `out` leaf first.
void Path(const std::vector<std::string>& hashes, uint64_t m, uint64_t begin,
          uint64_t end, std::vector<std::string>* out) {
  uint64_t n = end - begin;
  if (n == 1) return;
  uint64_t k = SplitPoint(n);
  if (m < k) {
    Path(hashes, m, begin, begin + k, out);
    out->push_back(SubtreeRoot(hashes, begin + k, end));
  } else {
    Path(hashes, m - k, begin + k, end, out);
    out->push_back(SubtreeRoot(hashes, begin, begin + k));
  }
}

// SUBPROOF(m, D[begin, end), b).
void SubProof(const std::vector<std::string>& hashes, uint64_t m,
              uint64_t begin, uint64_t end, bool b,
              std::vector<std::string>* out) {
  uint64_t n = end - begin;
  if (m == n) {
    if (!b) out->push_back(SubtreeRoot(hashes, begin, end));
    return;
  }
  uint64_t k = SplitPoint(n);
  if (m <= k) {
    SubProof(hashes, m, begin, begin + k, b, out);
    out->push_back(SubtreeRoot(hashes, begin + k, end));
  } else {
    SubProof(hashes, m - k, begin + k, end, false, out);
    out->push_back(SubtreeRoot(hashes, begin, begin + k));
  }
}

absl::Status CheckHashSizes(const std::vector<std::string>& proof) {
  for (size_t i = 0; i < proof.size(); ++i) {
    if (proof[i].size() != kSha256Size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "proof hash ", i, " has ", proof[i].size(), " bytes, want 32"));
    }
  }
  return absl::OkStatus();
}

// The two parts of an inclusion proof for (index, size): `inner` hashes
// below the point where the path to the leaf leaves the right border, then
// `border` hashes along the border.
struct Decomposition {
  int inner;
  int border;
};
Decomposition Decompose(uint64_t index, uint64_t size) {
  int inner = std::bit_width(index ^ (size - 1));
  // A tree larger than 2^63 makes `inner` 64 for any leaf left of the top
  // split; shifting a uint64_t by 64 is undefined, and that leaf has no
  // border hashes at all.
  int border = inner < 64 ? std::popcount(index >> inner) : 0;
  return {inner, border};
}

std::string ChainInner(std::string seed, const std::string* proof, int count,
                       uint64_t index) {
  for (int i = 0; i < count; ++i) {
    if (((index >> i) & 1) == 0) {
      seed = HashChildren(seed, proof[i]);
    } else {
      seed = HashChildren(proof[i], seed);
    }
  }
  return seed;
}

std::string ChainInnerRight(std::string seed, const std::string* proof,
                            int count, uint64_t index) {
  for (int i = 0; i < count; ++i) {
    if (((index >> i) & 1) == 1) seed = HashChildren(proof[i], seed);
  }
  return seed;
}

std::string ChainBorderRight(std::string seed, const std::string* proof,
                             int count) {
  for (int i = 0; i < count; ++i) seed = HashChildren(proof[i], seed);
  return seed;
}

std::string Hex(absl::string_view bytes) {
  return absl::BytesToHexString(bytes);
}

}  // namespace

uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

std::string HashLeaf(absl::string_view leaf) {
  std::string buf;
  buf.reserve(leaf.size() + 1);
  buf.push_back('\x00');
  buf.append(leaf.data(), leaf.size());
  return Sha256(buf);
}

std::string HashChildren(absl::string_view left, absl::string_view right) {
  std::string buf;
  buf.reserve(1 + left.size() + right.size());
  buf.push_back('\x01');
  buf.append(left.data(), left.size());
  buf.append(right.data(), right.size());
  return Sha256(buf);
}

std::string EmptyRoot() { return Sha256(""); }

std::string RootFromLeafHashes(const std::vector<std::string>& leaf_hashes) {
  if (leaf_hashes.empty()) return EmptyRoot();
  return SubtreeRoot(leaf_hashes, 0, leaf_hashes.size());
}

absl::StatusOr<std::vector<std::string>> InclusionProofFromLeafHashes(
    const std::vector<std::string>& leaf_hashes, uint64_t index,
    uint64_t size) {
  if (index >= size || size > leaf_hashes.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "inclusion proof needs index < size <= leaves; got index ", index,
        ", size ", size, ", ", leaf_hashes.size(), " leaves"));
  }
  std::vector<std::string> proof;
  Path(leaf_hashes, index, 0, size, &proof);
  return proof;
}

absl::StatusOr<std::vector<std::string>> ConsistencyProofFromLeafHashes(
    const std::vector<std::string>& leaf_hashes, uint64_t size1,
    uint64_t size2) {
  if (size1 > size2 || size2 > leaf_hashes.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("consistency proof needs size1 <= size2 <= leaves; got ",
                     size1, ", ", size2, ", ", leaf_hashes.size(), " leaves"));
  }
  std::vector<std::string> proof;
  if (size1 == 0 || size1 == size2) return proof;
  SubProof(leaf_hashes, size1, 0, size2, true, &proof);
  return proof;
}

absl::StatusOr<std::string> RootFromInclusionProof(
    uint64_t index, uint64_t size, absl::string_view leaf_hash,
    const std::vector<std::string>& proof) {
  if (index >= size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf index ", index, " is outside a tree of size ", size));
  }
  if (leaf_hash.size() != kSha256Size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf hash has ", leaf_hash.size(), " bytes, want 32"));
  }
  Decomposition d = Decompose(index, size);
  if (proof.size() != static_cast<size_t>(d.inner + d.border)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "inclusion proof for index ", index, " in size ", size, " has ",
        proof.size(), " hashes, want ", d.inner + d.border));
  }
  if (auto s = CheckHashSizes(proof); !s.ok()) return s;
  std::string res =
      ChainInner(std::string(leaf_hash), proof.data(), d.inner, index);
  return ChainBorderRight(std::move(res), proof.data() + d.inner, d.border);
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             absl::string_view leaf_hash,
                             const std::vector<std::string>& proof,
                             absl::string_view root) {
  if (root.size() != kSha256Size) {
    return absl::InvalidArgumentError(
        absl::StrCat("root has ", root.size(), " bytes, want 32"));
  }
  absl::StatusOr<std::string> computed =
      RootFromInclusionProof(index, size, leaf_hash, proof);
  if (!computed.ok()) return computed.status();
  if (*computed != root) {
    return absl::DataLossError(
        absl::StrCat("inclusion proof for index ", index, " in size ", size,
                     " gives root ", Hex(*computed), ", want ", Hex(root)));
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t size1, uint64_t size2,
                               const std::vector<std::string>& proof,
                               absl::string_view root1,
                               absl::string_view root2) {
  if (size2 < size1) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree size ", size2, " is smaller than earlier size ",
                     size1, ": the log shrank"));
  }
  if (size1 == size2) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError(
          "consistency proof between equal sizes must be empty");
    }
    if (root1 != root2) {
      return absl::DataLossError(
          absl::StrCat("two different roots for tree size ", size1, ": ",
                       Hex(root1), " and ", Hex(root2)));
    }
    return absl::OkStatus();
  }
  if (size1 == 0) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError(
          "consistency proof from the empty tree must be empty");
    }
    return absl::OkStatus();
  }
  if (root1.size() != kSha256Size || root2.size() != kSha256Size) {
    return absl::InvalidArgumentError("roots must be 32 bytes");
  }
  // 0 < size1 < size2.
  Decomposition d = Decompose(size1 - 1, size2);
  int shift = std::countr_zero(size1);
  int inner = d.inner - shift;
  // When size1 is a power of two its root is a node of the larger tree and
  // is not repeated in the proof.
  bool size1_is_subtree = size1 == (uint64_t{1} << shift);
  size_t start = size1_is_subtree ? 0 : 1;
  size_t want = start + inner + d.border;
  if (proof.size() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat("consistency proof from size ", size1, " to ", size2,
                     " has ", proof.size(), " hashes, want ", want));
  }
  if (auto s = CheckHashSizes(proof); !s.ok()) return s;
  std::string seed = size1_is_subtree ? std::string(root1) : proof[0];
  const std::string* rest = proof.data() + start;
  uint64_t mask = (size1 - 1) >> shift;

  std::string hash1 = ChainInnerRight(seed, rest, inner, mask);
  hash1 = ChainBorderRight(std::move(hash1), rest + inner, d.border);
  if (hash1 != root1) {
    return absl::DataLossError(
        absl::StrCat("consistency proof from size ", size1, " to ", size2,
                     " gives old root ", Hex(hash1), ", want ", Hex(root1)));
  }
  std::string hash2 = ChainInner(std::move(seed), rest, inner, mask);
  hash2 = ChainBorderRight(std::move(hash2), rest + inner, d.border);
  if (hash2 != root2) {
    return absl::DataLossError(
        absl::StrCat("consistency proof from size ", size1, " to ", size2,
                     " gives new root ", Hex(hash2), ", want ", Hex(root2)));
  }
  return absl::OkStatus();
}

}  // namespace haven::client
