// The fixed keys of the fuzz targets. Targets verify under them and the seed
// generator (fuzz_seeds.cc) signs with them, so seeds signed once stay valid
// and take the fuzzer past signature checks. They are derived from public
// seeds: never use them for anything but tests.
#ifndef HAVEN_TESTS_FUZZ_FUZZ_KEYS_H_
#define HAVEN_TESTS_FUZZ_FUZZ_KEYS_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "client/verify/signed_note.h"
#include "server/crypto/ed25519_signer.h"
#include "server/crypto/secret_bytes.h"

namespace haven::fuzz {

// Seed fill bytes: the key the targets trust, and another one (a second
// signer, or a wrong one).
inline constexpr uint8_t kTrustedKeyFill = 0x46;
inline constexpr uint8_t kOtherKeyFill = 0x4f;

// Names in the form nodes give their log keys (requester.h's
// client::LogOrigin): checkpoints by the trusted key carry its name as their
// origin.
inline constexpr char kTrustedKeyName[] = "safe-harbor.haven/log";
inline constexpr char kOtherKeyName[] = "legal-aid.haven/log";
// The task force operators' keys for the signed manifest: the trusted key
// and the other one, under these names.
inline constexpr const char* kOperatorKeyNames[2] = {"operator-a",
                                                     "operator-b"};
// The agency that holds the trusted key, where a target needs a peer.
inline constexpr char kTrustedAgency[] = "safe-harbor";

// The signer whose 32-byte seed is `fill` repeated. A failure here is a
// broken harness, not a finding: it aborts with a message.
inline std::unique_ptr<server::crypto::Ed25519Signer> FixedSigner(
    uint8_t fill) {
  server::crypto::SecretBytes seed(server::crypto::Ed25519Signer::kSeedSize);
  for (size_t i = 0; i < seed.size(); ++i) seed.mutable_data()[i] = fill;
  auto signer = server::crypto::Ed25519Signer::FromSeed(seed);
  if (!signer.ok()) {
    std::fprintf(stderr, "fuzz: cannot make the fixed signer\n");
    std::abort();
  }
  return *std::move(signer);
}

inline std::string PublicKey(const server::crypto::Ed25519Signer& signer) {
  return std::string(signer.public_key().begin(), signer.public_key().end());
}

// The signed-note verifier key of `signer` under `name`.
inline std::string VerifierKey(const std::string& name,
                               const server::crypto::Ed25519Signer& signer) {
  auto vkey = client::FormatVerifierKey(name, PublicKey(signer));
  if (!vkey.ok()) {
    std::fprintf(stderr, "fuzz: cannot format the fixed verifier key\n");
    std::abort();
  }
  return *vkey;
}

}  // namespace haven::fuzz

#endif  // HAVEN_TESTS_FUZZ_FUZZ_KEYS_H_
