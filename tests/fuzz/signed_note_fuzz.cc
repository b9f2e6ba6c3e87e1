// Fuzz target: C2SP signed notes, verifier keys and tlog checkpoint bodies
// (client/verify/signed_note.h) on arbitrary text, as an auditor or a peer
// node reads what another node sent. The input is tried as a verifier key,
// as a note and a checkpoint verified under the fixed trusted key
// (fuzz_keys.h), as a bare checkpoint body, and as text this target signs
// itself. The seeds hold checkpoints really signed by the trusted key, so
// mutations start past the signature check.
//
// Besides never crashing, every parse must give back exactly its input when
// formatted again (all three formats are canonical), and a note this target
// signed must open to its text or be refused as malformed, never as a bad
// or missing signature.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "client/verify/signed_note.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_keys.h"

namespace {

using haven::fuzz::FuzzCheck;

struct Fixture {
  std::unique_ptr<haven::server::crypto::Ed25519Signer> signer;
  haven::client::NoteVerifierKey key;
};

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    auto* f = new Fixture;
    f->signer = haven::fuzz::FixedSigner(haven::fuzz::kTrustedKeyFill);
    auto key = haven::client::ParseVerifierKey(
        haven::fuzz::VerifierKey(haven::fuzz::kTrustedKeyName, *f->signer));
    FuzzCheck(key.ok(), "the trusted verifier key parses");
    f->key = *std::move(key);
    return f;
  }();
  return *fixture;
}

void CheckVerifierKey(const std::string& in) {
  auto key = haven::client::ParseVerifierKey(in);
  if (!key.ok()) return;
  auto again = haven::client::FormatVerifierKey(key->name, key->public_key);
  FuzzCheck(again.ok() && *again == in, "a parsed verifier key re-formats");
}

void CheckNote(const std::string& in, const Fixture& f) {
  auto parsed = haven::client::ParseNote(in);
  if (parsed.ok()) {
    FuzzCheck(!parsed->signatures.empty(), "a parsed note has a signature");
    std::string again = parsed->text + "\n";
    for (const auto& sig : parsed->signatures) {
      again += haven::client::FormatSignatureLine(sig.name, sig.key_id,
                                                  sig.signature);
    }
    FuzzCheck(again == in, "a parsed note re-formats");
  }
  auto opened = haven::client::OpenNote(in, f.key);
  FuzzCheck(!opened.ok() || (parsed.ok() && *opened == parsed->text),
            "an opened note gives its signed text");
  auto checkpoint = haven::client::VerifyCheckpoint(in, f.key, "");
  if (!checkpoint.ok()) return;
  FuzzCheck(opened.ok(), "a verified checkpoint is an opened note");
  auto body = haven::client::ParseCheckpointBody(*opened);
  FuzzCheck(body.ok() && body->origin == checkpoint->origin &&
                body->tree_size == checkpoint->tree_size &&
                body->root_hash == checkpoint->root_hash,
            "a verified checkpoint is its body");
  auto with_origin =
      haven::client::VerifyCheckpoint(in, f.key, haven::fuzz::kTrustedKeyName);
  FuzzCheck(
      with_origin.ok() == (checkpoint->origin == haven::fuzz::kTrustedKeyName),
      "the origin check accepts exactly the wanted origin");
}

void CheckBody(const std::string& in) {
  auto body = haven::client::ParseCheckpointBody(in);
  if (!body.ok()) return;
  FuzzCheck(haven::client::FormatCheckpointBody(*body) == in,
            "a parsed checkpoint body re-formats");
}

// Signs `in` as note text and opens the note again.
void CheckSigned(const std::string& in, const Fixture& f) {
  if (in.empty() || in.back() != '\n') return;
  const std::string note =
      in + "\n" +
      haven::client::FormatSignatureLine(f.key.name, f.key.key_id,
                                         f.signer->SignToString(in));
  auto opened = haven::client::OpenNote(note, f.key);
  if (opened.ok()) {
    FuzzCheck(*opened == in, "a note we signed opens to its text");
  } else {
    FuzzCheck(absl::IsInvalidArgument(opened.status()),
              "a note we signed is only ever refused as malformed");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& f = GetFixture();
  const std::string in(reinterpret_cast<const char*>(data), size);
  CheckVerifierKey(in);
  CheckNote(in, f);
  CheckBody(in);
  CheckSigned(in, f);
  return 0;
}
