// Fuzz target: offline proof bundles (client/verify/proof_bundle.h) on
// arbitrary bytes, as `havenctl audit check-bundle` reads a file an
// auditor was handed. The input is parsed and verified under the fixed
// trusted key (fuzz_keys.h); the seeds hold bundles whose checkpoints that
// key really signed, so mutations start past the signature check.
//
// Besides never crashing: a bundle that parses formats back to exactly its
// input (the format has one encoding), and one that verifies parses.
#include <cstddef>
#include <cstdint>
#include <string>

#include "client/verify/proof_bundle.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_keys.h"

namespace {

using haven::fuzz::FuzzCheck;

const haven::client::NoteVerifierKey& TrustedKey() {
  static const haven::client::NoteVerifierKey* key = [] {
    auto signer = haven::fuzz::FixedSigner(haven::fuzz::kTrustedKeyFill);
    auto parsed = haven::client::ParseVerifierKey(
        haven::fuzz::VerifierKey(haven::fuzz::kTrustedKeyName, *signer));
    FuzzCheck(parsed.ok(), "the trusted verifier key parses");
    return new haven::client::NoteVerifierKey(*std::move(parsed));
  }();
  return *key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  haven::fuzz::QuietProtobufLogs();
  const std::string in(reinterpret_cast<const char*>(data), size);
  auto parsed = haven::client::ParseProofBundle(in);
  if (parsed.ok()) {
    FuzzCheck(haven::client::FormatProofBundle(*parsed) == in,
              "a parsed bundle formats back to its input");
  }
  auto verified = haven::client::VerifyProofBundle(in, TrustedKey());
  if (verified.ok()) {
    FuzzCheck(parsed.ok(), "a verified bundle parses");
    FuzzCheck(verified->leaf_index < verified->checkpoint.tree_size,
              "a verified index is inside the tree");
  }
  return 0;
}
