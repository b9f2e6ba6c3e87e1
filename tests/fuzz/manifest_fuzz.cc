// Fuzz target: the federation manifest (server/federation/manifest.h) on
// arbitrary text, as a node loads the file its operators wrote (and, once
// manifests spread between nodes, as a peer sends one). Besides never
// crashing: every member of a manifest that parses is found by its id, an
// empty id finds nobody, and the manifest printed again parses to the same.
// Each member's signing key goes through the verifier-key parser too, as a
// node does before it checks a peer's signature.
#include <cstddef>
#include <cstdint>
#include <string>

#include "client/verify/signed_note.h"
#include "google/protobuf/text_format.h"
#include "haven/v1/federation.pb.h"
#include "server/federation/manifest.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using haven::fuzz::FuzzCheck;
  using haven::server::federation::Manifest;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto manifest = Manifest::Parse(text, "fuzz.textproto");
  if (!manifest.ok()) return 0;
  const haven::v1::FederationManifest& proto = (*manifest)->proto();
  for (const haven::v1::Member& member : proto.members()) {
    const haven::v1::Member* found = (*manifest)->Find(member.agency_id());
    FuzzCheck(found == &member, "every member is found by its id");
    (void)haven::client::ParseVerifierKey(member.verifier_key());
  }
  FuzzCheck((*manifest)->Find("") == nullptr, "an empty id finds nobody");

  std::string printed;
  FuzzCheck(google::protobuf::TextFormat::PrintToString(proto, &printed),
            "a manifest prints");
  auto again = Manifest::Parse(printed, "printed");
  FuzzCheck(again.ok() && (*again)->proto().SerializeAsString() ==
                              proto.SerializeAsString(),
            "a printed manifest parses to the same");
  return 0;
}
