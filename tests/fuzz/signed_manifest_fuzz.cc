// Fuzz target: the signed federation manifest (client/verify/
// signed_manifest.h) as a node gets one from its manifest file or from any
// peer that relays it (GetManifest), and the node's own opening of it
// (server/federation/manifest.h). The trusted operators are the two fixed
// fuzz keys; seeds signed by them (fuzz_seeds.cc) take the fuzzer past the
// signature checks into the text. Besides never crashing:
//   - a manifest that verifies under "2 of 2" verifies under "1 of 2" too,
//     with at least as many signers as required, each a trusted name;
//   - what verifies reads the same without the signatures
//     (ReadManifestNote), and the node opens it to the same manifest;
//   - verifying is deterministic.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "client/verify/signed_manifest.h"
#include "server/federation/manifest.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_keys.h"

namespace {

haven::client::ManifestTrust Trust(uint32_t required) {
  auto a = haven::fuzz::FixedSigner(haven::fuzz::kTrustedKeyFill);
  auto b = haven::fuzz::FixedSigner(haven::fuzz::kOtherKeyFill);
  auto trust = haven::client::ParseManifestTrust(
      {haven::fuzz::VerifierKey(haven::fuzz::kOperatorKeyNames[0], *a),
       haven::fuzz::VerifierKey(haven::fuzz::kOperatorKeyNames[1], *b)},
      required);
  haven::fuzz::FuzzCheck(trust.ok(), "the fixed operator keys parse");
  return *std::move(trust);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using haven::fuzz::FuzzCheck;
  static const haven::client::ManifestTrust kBoth = Trust(2);
  static const haven::client::ManifestTrust kEither = Trust(1);
  const std::string note(reinterpret_cast<const char*>(data), size);

  auto both = haven::client::VerifyManifestNote(note, kBoth, "fuzz");
  auto either = haven::client::VerifyManifestNote(note, kEither, "fuzz");
  auto again = haven::client::VerifyManifestNote(note, kBoth, "fuzz");
  FuzzCheck(
      both.ok() == again.ok() && both.status().code() == again.status().code(),
      "verifying is deterministic");
  if (both.ok()) {
    FuzzCheck(either.ok(), "what two keys signed, one key accepts");
    FuzzCheck(both->signers.size() == 2, "2 of 2 means both signed");
  }
  if (!either.ok()) return 0;
  const std::set<std::string> trusted = {haven::fuzz::kOperatorKeyNames[0],
                                         haven::fuzz::kOperatorKeyNames[1]};
  std::set<std::string> distinct;
  for (const std::string& signer : either->signers) {
    FuzzCheck(trusted.contains(signer), "every signer is a trusted key");
    distinct.insert(signer);
  }
  FuzzCheck(!distinct.empty() && distinct.size() == either->signers.size(),
            "signers are distinct and at least one");

  auto unsigned_read = haven::client::ReadManifestNote(note, "fuzz");
  FuzzCheck(unsigned_read.ok() && unsigned_read->SerializeAsString() ==
                                      either->manifest.SerializeAsString(),
            "a verified manifest reads the same without its signatures");
  auto opened =
      haven::server::federation::Manifest::OpenSigned(note, kEither, "fuzz");
  FuzzCheck(opened.ok() && (*opened)->serial() == either->manifest.serial() &&
                (*opened)->note_sha256() == either->note_sha256,
            "the node opens what verifies to the same manifest");
  for (const haven::v1::Member& member : either->manifest.members()) {
    FuzzCheck((*opened)->Find(member.agency_id()) != nullptr,
              "every member is found by its id");
  }
  return 0;
}
