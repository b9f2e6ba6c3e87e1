// RFC 6962 hashing and proofs against the test vectors that Certificate
// Transparency implementations ship (google/certificate-transparency,
// google/trillian merkle/log_verifier_test.go, transparency-dev/merkle).
#include "client/verify/merkle.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace haven::client {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;

std::string H(absl::string_view hex) { return absl::HexStringToBytes(hex); }

std::vector<std::string> Hs(std::initializer_list<absl::string_view> hexes) {
  std::vector<std::string> out;
  for (absl::string_view h : hexes) out.push_back(H(h));
  return out;
}

// The eight leaves of the reference tree.
const std::vector<std::string>& Leaves() {
  static const auto* leaves = new std::vector<std::string>{
      H(""),
      H("00"),
      H("10"),
      H("2021"),
      H("3031"),
      H("40414243"),
      H("5051525354555657"),
      H("606162636465666768696a6b6c6d6e6f"),
  };
  return *leaves;
}

// MTH(D[n]) for n = 0..8.
const std::vector<std::string>& Roots() {
  static const auto* roots = new std::vector<std::string>(Hs({
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  }));
  return *roots;
}

std::vector<std::string> LeafHashes(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(HashLeaf(Leaves()[i]));
  return out;
}

struct InclusionVector {
  uint64_t index;
  uint64_t size;
  std::vector<std::string> proof;
};

// Published audit paths.
std::vector<InclusionVector> InclusionVectors() {
  return {
      {0, 1, {}},
      {0, 8,
       Hs({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e"
           "4"})},
      {5, 8,
       Hs({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
           "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b"
           "7"})},
      {2, 3,
       Hs({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c12"
           "5"})},
      {1, 5,
       Hs({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6"
           "b"})},
  };
}

struct ConsistencyVector {
  uint64_t size1;
  uint64_t size2;
  std::vector<std::string> proof;
};

// Published consistency proofs.
std::vector<ConsistencyVector> ConsistencyVectors() {
  return {
      {1, 1, {}},
      {1, 8,
       Hs({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e"
           "4"})},
      {6, 8,
       Hs({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
           "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b"
           "7"})},
      {2, 5,
       Hs({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6"
           "b"})},
  };
}

TEST(MerkleTest, LeafAndNodeHashesUseDomainPrefixes) {
  EXPECT_EQ(HashLeaf(""), Roots()[1]);
  EXPECT_EQ(HashChildren(HashLeaf(Leaves()[0]), HashLeaf(Leaves()[1])),
            Roots()[2]);
  EXPECT_EQ(EmptyRoot(), Roots()[0]);
}

TEST(MerkleTest, RootsOfTreesOneToEightMatchPublishedVectors) {
  for (size_t n = 0; n <= 8; ++n) {
    EXPECT_EQ(absl::BytesToHexString(RootFromLeafHashes(LeafHashes(n))),
              absl::BytesToHexString(Roots()[n]))
        << "size " << n;
  }
}

TEST(MerkleTest, PublishedInclusionProofsAreProducedAndVerify) {
  auto hashes = LeafHashes(8);
  for (const auto& v : InclusionVectors()) {
    auto proof = InclusionProofFromLeafHashes(hashes, v.index, v.size);
    ASSERT_THAT(proof, IsOk());
    EXPECT_EQ(*proof, v.proof) << v.index << "/" << v.size;
    EXPECT_THAT(VerifyInclusion(v.index, v.size, hashes[v.index], v.proof,
                                Roots()[v.size]),
                IsOk())
        << v.index << "/" << v.size;
  }
}

TEST(MerkleTest, InclusionProofsAtEveryIndexOfEverySizeVerify) {
  auto hashes = LeafHashes(8);
  for (uint64_t size = 1; size <= 8; ++size) {
    for (uint64_t index = 0; index < size; ++index) {
      auto proof = InclusionProofFromLeafHashes(hashes, index, size);
      ASSERT_THAT(proof, IsOk());
      EXPECT_THAT(
          VerifyInclusion(index, size, hashes[index], *proof, Roots()[size]),
          IsOk())
          << index << "/" << size;
      auto root = RootFromInclusionProof(index, size, hashes[index], *proof);
      ASSERT_THAT(root, IsOk());
      EXPECT_EQ(*root, Roots()[size]);
      // The same proof must not verify for a neighbouring index or a wrong
      // leaf.
      if (size > 1) {
        uint64_t other = (index + 1) % size;
        EXPECT_FALSE(
            VerifyInclusion(other, size, hashes[index], *proof, Roots()[size])
                .ok())
            << index << "/" << size;
      }
      EXPECT_FALSE(VerifyInclusion(index, size, HashLeaf("WrongLeaf"), *proof,
                                   Roots()[size])
                       .ok());
    }
  }
}

TEST(MerkleTest, PublishedConsistencyProofsAreProducedAndVerify) {
  auto hashes = LeafHashes(8);
  for (const auto& v : ConsistencyVectors()) {
    auto proof = ConsistencyProofFromLeafHashes(hashes, v.size1, v.size2);
    ASSERT_THAT(proof, IsOk());
    EXPECT_EQ(*proof, v.proof) << v.size1 << "->" << v.size2;
    EXPECT_THAT(VerifyConsistency(v.size1, v.size2, v.proof, Roots()[v.size1],
                                  Roots()[v.size2]),
                IsOk())
        << v.size1 << "->" << v.size2;
  }
}

TEST(MerkleTest, ConsistencyProofsBetweenAllSizesVerify) {
  auto hashes = LeafHashes(8);
  for (uint64_t size2 = 0; size2 <= 8; ++size2) {
    for (uint64_t size1 = 0; size1 <= size2; ++size1) {
      auto proof = ConsistencyProofFromLeafHashes(hashes, size1, size2);
      ASSERT_THAT(proof, IsOk());
      EXPECT_THAT(VerifyConsistency(size1, size2, *proof, Roots()[size1],
                                    Roots()[size2]),
                  IsOk())
          << size1 << "->" << size2;
      if (size1 > 0 && size1 < size2) {
        // Swapped roots never verify.
        EXPECT_FALSE(VerifyConsistency(size1, size2, *proof, Roots()[size2],
                                       Roots()[size1])
                         .ok());
      }
    }
  }
}

TEST(MerkleTest, VerifyInclusionWithFlippedBitFails) {
  auto hashes = LeafHashes(8);
  for (const auto& v : InclusionVectors()) {
    for (size_t i = 0; i < v.proof.size(); ++i) {
      for (int bit : {0, 7, 255}) {
        auto proof = v.proof;
        proof[i][bit / 8] ^= static_cast<char>(1 << (bit % 8));
        EXPECT_THAT(VerifyInclusion(v.index, v.size, hashes[v.index], proof,
                                    Roots()[v.size]),
                    StatusIs(absl::StatusCode::kDataLoss))
            << v.index << "/" << v.size << " hash " << i << " bit " << bit;
      }
    }
  }
}

TEST(MerkleTest, VerifyConsistencyWithFlippedBitFails) {
  for (const auto& v : ConsistencyVectors()) {
    for (size_t i = 0; i < v.proof.size(); ++i) {
      auto proof = v.proof;
      proof[i][31] ^= 0x01;
      EXPECT_THAT(VerifyConsistency(v.size1, v.size2, proof, Roots()[v.size1],
                                    Roots()[v.size2]),
                  StatusIs(absl::StatusCode::kDataLoss))
          << v.size1 << "->" << v.size2 << " hash " << i;
    }
  }
}

TEST(MerkleTest, VerifyInclusionWithWrongLengthProofFails) {
  auto hashes = LeafHashes(8);
  const auto v = InclusionVectors()[1];  // (0, 8)
  auto longer = v.proof;
  longer.push_back(Roots()[8]);
  auto shorter = v.proof;
  shorter.pop_back();
  auto front = v.proof;
  front.insert(front.begin(), Roots()[8]);
  for (const auto& proof : {longer, shorter, front}) {
    EXPECT_THAT(VerifyInclusion(0, 8, hashes[0], proof, Roots()[8]),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  auto short_hash = v.proof;
  short_hash[1].pop_back();
  EXPECT_THAT(VerifyInclusion(0, 8, hashes[0], short_hash, Roots()[8]),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MerkleTest, VerifyConsistencyWithWrongLengthProofFails) {
  const auto v = ConsistencyVectors()[2];  // 6 -> 8
  auto longer = v.proof;
  longer.push_back(v.proof[0]);
  auto shorter = v.proof;
  shorter.pop_back();
  for (const auto& proof : {longer, shorter, std::vector<std::string>{}}) {
    EXPECT_THAT(VerifyConsistency(6, 8, proof, Roots()[6], Roots()[8]),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(MerkleTest, InvalidSizesAreRejected) {
  auto hashes = LeafHashes(8);
  EXPECT_THAT(VerifyInclusion(0, 0, hashes[0], {}, Roots()[0]),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyInclusion(8, 8, hashes[0], {}, Roots()[8]),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyConsistency(8, 6, {}, Roots()[8], Roots()[6]),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyConsistency(3, 3, {}, Roots()[3], Roots()[4]),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(VerifyConsistency(0, 3, {Roots()[3]}, Roots()[0], Roots()[3]),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(InclusionProofFromLeafHashes(hashes, 3, 9),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// A peer chooses the tree size it claims; sizes above 2^63 once shifted a
// 64-bit index by 64 and asked for proofs of the wrong length.
TEST(MerkleTest, TreesLargerThanTwoToTheSixtyThirdNeedProofsOfTheRightLength) {
  constexpr uint64_t kHuge = (uint64_t{1} << 63) + 1;
  auto hashes = LeafHashes(1);
  std::vector<std::string> path(64, hashes[0]);
  // Leaf 0 sits 64 levels below the root and has no border hashes.
  EXPECT_THAT(VerifyInclusion(0, kHuge, hashes[0], path, Roots()[1]),
              StatusIs(absl::StatusCode::kDataLoss));
  path.push_back(hashes[0]);
  EXPECT_THAT(VerifyInclusion(0, kHuge, hashes[0], path, Roots()[1]),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // The last leaf hangs directly off the root.
  EXPECT_THAT(
      VerifyInclusion(kHuge - 1, kHuge, hashes[0], {hashes[0]}, Roots()[1]),
      StatusIs(absl::StatusCode::kDataLoss));
  std::vector<std::string> consistency(64, hashes[0]);
  EXPECT_THAT(VerifyConsistency(1, kHuge, consistency, Roots()[1], Roots()[1]),
              StatusIs(absl::StatusCode::kDataLoss));
  consistency.push_back(hashes[0]);
  EXPECT_THAT(VerifyConsistency(1, kHuge, consistency, Roots()[1], Roots()[1]),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace haven::client
