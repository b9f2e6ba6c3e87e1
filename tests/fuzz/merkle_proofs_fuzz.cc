// Fuzz target: RFC 6962 proof verification (client/verify/merkle.h) and the
// auditor's full log replay (client/verify/log_replay.h), with proofs,
// sizes and indices decoded from the input, as a node or an auditor checks
// what a peer sent. The first byte picks one of four modes; the rest is read
// with FuzzInput (zeros and empty strings past the end), each hash as a
// ShortString so that wrong sizes are reachable too:
//
//   0 raw inclusion:   index, size (U64), leaf hash, root, count (Byte),
//                      count hashes
//   1 raw consistency: size1, size2 (U64), root1, root2, count, count hashes
//   2 tree:            n (Byte), n leaves (ShortString), then U64 picks of
//                      index, size and size1, then tamper bytes (below)
//   3 log replay:      n (Byte % 33), n leaves, trusted size pick (Byte),
//                      origin flag (Byte), tamper op (Byte), then its operand
//
// Raw modes only have to not crash. The tree mode builds the real proofs
// with the reference implementation and checks that they verify and that
// every tampering (a flipped bit in a proof hash, the leaf or a root; a hash
// too many or too few) is refused. The replay mode signs checkpoints of the
// leaves with the fixed trusted key, checks that the untouched log verifies,
// and that each kind of damage is reported as DATA_LOSS.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/verify/log_replay.h"
#include "client/verify/merkle.h"
#include "client/verify/signed_note.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_keys.h"

namespace {

using haven::client::CheckpointBody;
using haven::client::HashLeaf;
using haven::client::RootFromLeafHashes;
using haven::client::VerifyConsistency;
using haven::client::VerifyInclusion;
using haven::fuzz::FuzzCheck;
using haven::fuzz::FuzzInput;

std::vector<std::string> Hashes(FuzzInput& in, size_t count) {
  std::vector<std::string> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(in.ShortString());
  return out;
}

void RawInclusion(FuzzInput& in) {
  const uint64_t index = in.U64();
  const uint64_t size = in.U64();
  const std::string leaf_hash = in.ShortString();
  const std::string root = in.ShortString();
  const std::vector<std::string> proof = Hashes(in, in.Byte());
  absl::Status verified = VerifyInclusion(index, size, leaf_hash, proof, root);
  auto computed =
      haven::client::RootFromInclusionProof(index, size, leaf_hash, proof);
  FuzzCheck(!verified.ok() || (computed.ok() && *computed == root),
            "a verified inclusion proof leads to its root");
}

void RawConsistency(FuzzInput& in) {
  const uint64_t size1 = in.U64();
  const uint64_t size2 = in.U64();
  const std::string root1 = in.ShortString();
  const std::string root2 = in.ShortString();
  const std::vector<std::string> proof = Hashes(in, in.Byte());
  (void)VerifyConsistency(size1, size2, proof, root1, root2);
}

std::string PrefixRoot(const std::vector<std::string>& hashes, size_t size) {
  return RootFromLeafHashes(
      std::vector<std::string>(hashes.begin(), hashes.begin() + size));
}

std::string FlipBit(std::string s, uint8_t bit) {
  if (!s.empty()) s[(bit / 8) % s.size()] ^= static_cast<char>(1 << (bit % 8));
  return s;
}

void Tree(FuzzInput& in) {
  const size_t n = in.Byte();
  if (n == 0) return;
  std::vector<std::string> hashes;
  hashes.reserve(n);
  for (size_t i = 0; i < n; ++i) hashes.push_back(HashLeaf(in.ShortString()));
  const uint64_t index = in.U64() % n;
  const uint64_t size = index + 1 + in.U64() % (n - index);
  const uint64_t size1 = in.U64() % (size + 1);
  const std::string root = PrefixRoot(hashes, size);
  const std::string root1 = PrefixRoot(hashes, size1);

  auto inclusion =
      haven::client::InclusionProofFromLeafHashes(hashes, index, size);
  FuzzCheck(inclusion.ok(), "the reference inclusion proof is made");
  FuzzCheck(VerifyInclusion(index, size, hashes[index], *inclusion, root).ok(),
            "a true inclusion proof verifies");
  auto consistency =
      haven::client::ConsistencyProofFromLeafHashes(hashes, size1, size);
  FuzzCheck(consistency.ok(), "the reference consistency proof is made");
  FuzzCheck(VerifyConsistency(size1, size, *consistency, root1, root).ok(),
            "a true consistency proof verifies");

  // Each tamper byte: low 3 bits pick what to damage, the next byte which
  // bit. Zero bytes past the end of the input damage nothing further.
  for (int round = 0; round < 4 && in.remaining() > 0; ++round) {
    const uint8_t op = in.Byte();
    const uint8_t bit = in.Byte();
    std::vector<std::string> ip = *inclusion;
    std::vector<std::string> cp = *consistency;
    switch (op % 8) {
      case 0:
        if (ip.empty()) break;
        ip[bit % ip.size()] = FlipBit(ip[bit % ip.size()], in.Byte());
        FuzzCheck(!VerifyInclusion(index, size, hashes[index], ip, root).ok(),
                  "an inclusion proof with a flipped bit fails");
        break;
      case 1:
        if (cp.empty()) break;
        cp[bit % cp.size()] = FlipBit(cp[bit % cp.size()], in.Byte());
        FuzzCheck(!VerifyConsistency(size1, size, cp, root1, root).ok(),
                  "a consistency proof with a flipped bit fails");
        break;
      case 2:
        FuzzCheck(
            !VerifyInclusion(index, size, FlipBit(hashes[index], bit), ip, root)
                 .ok(),
            "an inclusion proof for another leaf fails");
        FuzzCheck(
            !VerifyInclusion(index, size, hashes[index], ip, FlipBit(root, bit))
                 .ok(),
            "an inclusion proof against another root fails");
        break;
      case 3:
        if (size1 == 0) break;  // every tree extends the empty tree
        FuzzCheck(
            !VerifyConsistency(size1, size, cp, FlipBit(root1, bit), root).ok(),
            "a consistency proof from another old root fails");
        FuzzCheck(
            !VerifyConsistency(size1, size, cp, root1, FlipBit(root, bit)).ok(),
            "a consistency proof to another new root fails");
        break;
      case 4:
        ip.push_back(hashes[bit % n]);
        cp.push_back(hashes[bit % n]);
        FuzzCheck(!VerifyInclusion(index, size, hashes[index], ip, root).ok(),
                  "an inclusion proof with a hash too many fails");
        FuzzCheck(!VerifyConsistency(size1, size, cp, root1, root).ok(),
                  "a consistency proof with a hash too many fails");
        break;
      case 5:
        if (!ip.empty()) {
          ip.pop_back();
          FuzzCheck(!VerifyInclusion(index, size, hashes[index], ip, root).ok(),
                    "an inclusion proof with a hash too few fails");
        }
        if (!cp.empty()) {
          cp.pop_back();
          FuzzCheck(!VerifyConsistency(size1, size, cp, root1, root).ok(),
                    "a consistency proof with a hash too few fails");
        }
        break;
      default:
        // Another index or size with the same proof: anything but a crash.
        (void)VerifyInclusion(in.U64(), in.U64(), hashes[index], ip, root);
        (void)VerifyConsistency(in.U64(), in.U64(), cp, root1, root);
        break;
    }
  }
}

struct Signer {
  std::unique_ptr<haven::server::crypto::Ed25519Signer> signer;
  haven::client::NoteVerifierKey key;
  std::string verifier_key;
};

const Signer& GetSigner() {
  static const Signer* s = [] {
    auto* out = new Signer;
    out->signer = haven::fuzz::FixedSigner(haven::fuzz::kTrustedKeyFill);
    out->verifier_key =
        haven::fuzz::VerifierKey(haven::fuzz::kTrustedKeyName, *out->signer);
    auto key = haven::client::ParseVerifierKey(out->verifier_key);
    FuzzCheck(key.ok(), "the trusted verifier key parses");
    out->key = *std::move(key);
    return out;
  }();
  return *s;
}

std::string SignedCheckpoint(const Signer& s, uint64_t size,
                             const std::string& root) {
  CheckpointBody body;
  body.origin = haven::fuzz::kTrustedKeyName;
  body.tree_size = size;
  body.root_hash = root;
  const std::string text = haven::client::FormatCheckpointBody(body);
  return text + "\n" +
         haven::client::FormatSignatureLine(s.key.name, s.key.key_id,
                                            s.signer->SignToString(text));
}

void Replay(FuzzInput& in) {
  const Signer& s = GetSigner();
  const size_t n = in.Byte() % 33;
  std::vector<std::string> leaves;
  std::vector<std::string> hashes;
  for (size_t i = 0; i < n; ++i) {
    leaves.push_back(in.ShortString());
    hashes.push_back(HashLeaf(leaves.back()));
  }
  const size_t trusted = in.Byte() % (n + 1);
  const bool name_origin = in.Bool();

  haven::client::ReplayInput input;
  input.leaves = leaves;
  input.checkpoint_note = SignedCheckpoint(s, n, RootFromLeafHashes(hashes));
  input.verifier_key = s.verifier_key;
  if (name_origin) input.origin = haven::fuzz::kTrustedKeyName;
  input.trusted_checkpoint_note =
      SignedCheckpoint(s, trusted, PrefixRoot(hashes, trusted));
  // The node's proofs are those of the untouched leaves.
  input.inclusion_proof = [&hashes](uint64_t index, uint64_t size) {
    return haven::client::InclusionProofFromLeafHashes(hashes, index, size);
  };

  const uint8_t op = in.Byte() % 8;
  absl::StatusOr<CheckpointBody> result;
  switch (op) {
    case 0:
      result = haven::client::VerifyLogReplay(input);
      FuzzCheck(result.ok() && result->tree_size == n,
                "an untouched log replays");
      return;
    case 1: {
      if (n == 0) return;
      const size_t k = in.Byte() % n;
      input.leaves[k] += in.ShortString() + "x";
      result = haven::client::VerifyLogReplay(input);
      FuzzCheck(absl::IsDataLoss(result.status()) &&
                    absl::StartsWith(result.status().message(),
                                     absl::StrCat("leaf ", k, " ")),
                "an altered leaf is named");
      return;
    }
    case 2:
      if (n == 0) return;
      input.leaves.pop_back();
      result = haven::client::VerifyLogReplay(input);
      FuzzCheck(absl::IsDataLoss(result.status()), "a missing leaf is found");
      return;
    case 3:
      input.trusted_checkpoint_note =
          SignedCheckpoint(s, n + 1 + in.Byte(), RootFromLeafHashes(hashes));
      result = haven::client::VerifyLogReplay(input);
      FuzzCheck(absl::IsDataLoss(result.status()), "a shrunk log is found");
      return;
    case 4:
      input.trusted_checkpoint_note = SignedCheckpoint(
          s, trusted, FlipBit(PrefixRoot(hashes, trusted), in.Byte()));
      result = haven::client::VerifyLogReplay(input);
      FuzzCheck(absl::IsDataLoss(result.status()),
                "a rewritten trusted prefix is found");
      return;
    case 5:
      input.checkpoint_note = in.Rest();
      break;
    case 6:
      input.trusted_checkpoint_note = in.Rest();
      break;
    default:
      input.verifier_key = in.Rest();
      break;
  }
  // Damage from the input itself: anything but a crash.
  (void)haven::client::VerifyLogReplay(input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  switch (in.Byte() % 4) {
    case 0:
      RawInclusion(in);
      break;
    case 1:
      RawConsistency(in);
      break;
    case 2:
      Tree(in);
      break;
    default:
      Replay(in);
      break;
  }
  return 0;
}
