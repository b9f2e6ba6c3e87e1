// havenctl federation …: the task force operators' offline tools for the
// signed federation manifest (client/verify/signed_manifest.h). They need
// no node: keys are made, manifests signed and checked on the operator's
// own machine, and the signed file is handed to any one node.
#include <sodium.h>

#include <array>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/cli/commands.h"
#include "client/cli/decision_output.h"
#include "client/cli/local_file.h"
#include "client/verify/crypto.h"
#include "client/verify/signed_manifest.h"
#include "client/verify/signed_note.h"
#include "haven/base/hex.h"
#include "haven/base/limits.h"
#include "haven/base/status_macros.h"

namespace haven::client::cli {
namespace {

namespace v1 = ::haven::v1;

// A signing key file, as Go's golang.org/x/mod/sumdb/note writes one:
// "PRIVATE+KEY+<name>+<key id, 8 hex>+<base64(0x01 || 32-byte seed)>".
constexpr absl::string_view kPrivateKeyPrefix = "PRIVATE+KEY+";
constexpr size_t kSeedSize = crypto_sign_SEEDBYTES;
constexpr size_t kMaxKeyFileBytes = 1024;

// An operator's signing key, wiped when it goes.
class OperatorKey {
 public:
  OperatorKey() = default;
  OperatorKey(const OperatorKey&) = delete;
  OperatorKey& operator=(const OperatorKey&) = delete;
  ~OperatorKey() { sodium_memzero(secret_.data(), secret_.size()); }

  static absl::StatusOr<std::unique_ptr<OperatorKey>> Generate(
      std::string name) {
    auto key = std::make_unique<OperatorKey>();
    key->name_ = std::move(name);
    crypto_sign_keypair(key->public_.data(), key->secret_.data());
    return key;
  }

  static absl::StatusOr<std::unique_ptr<OperatorKey>> Parse(
      std::string text, const std::string& path) {
    absl::Cleanup wipe = [&text] { sodium_memzero(text.data(), text.size()); };
    absl::string_view rest = absl::StripTrailingAsciiWhitespace(text);
    auto bad = absl::InvalidArgumentError(absl::StrCat(
        path,
        " is not a federation signing key (havenctl federation keygen "
        "makes one)"));
    if (!absl::ConsumePrefix(&rest, kPrivateKeyPrefix)) return bad;
    // The key's base64 may hold '+' itself.
    std::vector<absl::string_view> parts =
        absl::StrSplit(rest, absl::MaxSplits('+', 2));
    if (parts.size() != 3 || !IsValidNoteName(parts[0])) return bad;
    std::string raw;
    absl::Cleanup wipe_raw = [&raw] { sodium_memzero(raw.data(), raw.size()); };
    if (!absl::Base64Unescape(parts[2], &raw) || raw.size() != 1 + kSeedSize ||
        static_cast<uint8_t>(raw[0]) != kNoteAlgEd25519) {
      return bad;
    }
    auto key = std::make_unique<OperatorKey>();
    key->name_ = std::string(parts[0]);
    crypto_sign_seed_keypair(key->public_.data(), key->secret_.data(),
                             reinterpret_cast<const uint8_t*>(raw.data() + 1));
    if (absl::StrFormat("%08x", key->key_id()) != parts[1]) return bad;
    return key;
  }

  const std::string& name() const { return name_; }
  std::string public_key() const {
    return std::string(reinterpret_cast<const char*>(public_.data()),
                       public_.size());
  }
  uint32_t key_id() const { return NoteKeyId(name_, public_key()); }

  // The key file's text; the caller writes it and wipes it.
  std::string FileText() const {
    std::string raw(1 + kSeedSize, '\0');
    raw[0] = static_cast<char>(kNoteAlgEd25519);
    // libsodium's secret key is seed || public key.
    std::copy(secret_.begin(), secret_.begin() + kSeedSize, raw.begin() + 1);
    std::string text = absl::StrCat(kPrivateKeyPrefix, name_, "+",
                                    absl::StrFormat("%08x", key_id()), "+",
                                    absl::Base64Escape(raw), "\n");
    sodium_memzero(raw.data(), raw.size());
    return text;
  }

  std::string SignatureLine(absl::string_view text) const {
    std::array<uint8_t, crypto_sign_BYTES> signature{};
    crypto_sign_detached(signature.data(), nullptr,
                         reinterpret_cast<const uint8_t*>(text.data()),
                         text.size(), secret_.data());
    return FormatSignatureLine(
        name_, key_id(),
        absl::string_view(reinterpret_cast<const char*>(signature.data()),
                          signature.size()));
  }

 private:
  std::string name_;
  std::array<uint8_t, crypto_sign_PUBLICKEYBYTES> public_{};
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> secret_{};
};

// The positional argument `i` after "federation <verb>", or empty.
std::string Positional(const Invocation& in, size_t i) {
  const auto& words = in.args.positional();
  return words.size() > 2 + i ? words[2 + i] : "";
}

absl::StatusOr<std::string> ReadManifestFile(const std::string& path) {
  return ReadLocalFile(path, limits::kMaxManifestNoteBytes,
                       "a signed manifest");
}

int Keygen(const Invocation& in) {
  const std::string name = in.args.GetOr("name", "");
  const std::string out = in.args.GetOr("out", "");
  if (!IsValidNoteName(name) || out.empty()) {
    return UsageError(
        "--name NAME (no spaces, no '+') and --out FILE are required");
  }
  if (sodium_init() < 0) return Report(absl::InternalError("libsodium"));
  auto key = OperatorKey::Generate(name);
  if (!key.ok()) return Report(key.status());
  std::string text = (*key)->FileText();
  absl::Status written = WriteNewLocalFile(out, text, 0600);
  sodium_memzero(text.data(), text.size());
  if (!written.ok()) return Report(written);
  auto vkey = FormatVerifierKey(name, (*key)->public_key());
  if (!vkey.ok()) return Report(vkey.status());
  std::printf("%s\n", vkey->c_str());
  std::fprintf(stderr,
               "signing key written to %s (mode 0600); keep it offline.\n"
               "Put the verifier key above in every node's config as a "
               "federation_verifier_keys entry.\n",
               out.c_str());
  return kExitOk;
}

int Sign(const Invocation& in) {
  const std::string key_path = in.args.GetOr("key", "");
  const std::string input = Positional(in, 0);
  if (key_path.empty() || input.empty()) {
    return UsageError("usage: havenctl federation sign --key KEYFILE MANIFEST");
  }
  if (sodium_init() < 0) return Report(absl::InternalError("libsodium"));
  auto key_text = ReadLocalFile(key_path, kMaxKeyFileBytes, "a key file");
  if (!key_text.ok()) return Report(key_text.status());
  auto key = OperatorKey::Parse(*std::move(key_text), key_path);
  if (!key.ok()) return Report(key.status());
  auto text = ReadManifestFile(input);
  if (!text.ok()) return Report(text.status());

  // A signed manifest gets one more signature over the same text; a plain
  // text-format manifest is checked and signed first as its canonical form.
  std::string note;
  auto signed_already = ReadManifestSignatures(*text, input);
  if (signed_already.ok()) {
    if (auto body = ParseManifestNoteText(signed_already->text, input);
        !body.ok()) {
      return Report(body.status());
    }
    for (const NoteSignature& sig : signed_already->signatures) {
      if (sig.name == (*key)->name() && sig.key_id == (*key)->key_id()) {
        return Report(absl::AlreadyExistsError(
            absl::StrCat(input, " is already signed by ", (*key)->name())));
      }
    }
    note = absl::StrCat(*text, (*key)->SignatureLine(signed_already->text));
  } else {
    auto manifest = ParseManifestText(*text, input);
    if (!manifest.ok()) return Report(manifest.status());
    std::string body = ManifestNoteText(*manifest);
    note = absl::StrCat(body, "\n", (*key)->SignatureLine(body));
  }
  const std::string out = in.args.GetOr("out", "");
  if (out.empty()) {
    std::fwrite(note.data(), 1, note.size(), stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitUsage;
  }
  if (absl::Status written = WriteNewLocalFile(out, note, 0644);
      !written.ok()) {
    return Report(written);
  }
  std::fprintf(stderr, "signed by %s; written to %s\n", (*key)->name().c_str(),
               out.c_str());
  return kExitOk;
}

int Verify(const Invocation& in) {
  const std::string input = Positional(in, 0);
  std::vector<std::string> keys = in.args.GetAll("key");
  uint32_t required = 0;
  if (input.empty() || keys.empty() ||
      (in.args.Has("required") &&
       !absl::SimpleAtoi(in.args.GetOr("required", ""), &required))) {
    return UsageError(
        "usage: havenctl federation verify --key VKEY [--key VKEY ...] "
        "[--required K] MANIFEST");
  }
  auto trust = ParseManifestTrust(keys, required);
  if (!trust.ok()) return Report(trust.status());
  auto text = ReadManifestFile(input);
  if (!text.ok()) return Report(text.status());
  auto verified = VerifyManifestNote(*text, *trust, input);
  if (!verified.ok()) return ReportVerifyFailure("", verified.status());
  std::printf(
      "verified: federation %s, serial %llu, %d members, signed by %s "
      "(%d of %zu required)\nsha256 %s\n",
      verified->manifest.federation().c_str(),
      static_cast<unsigned long long>(verified->manifest.serial()),
      verified->manifest.members_size(),
      absl::StrJoin(verified->signers, ", ").c_str(), trust->required,
      trust->keys.size(), verified->note_sha256.c_str());
  return kExitOk;
}

// Reads MANIFEST as a signed note, or as plain text format (a draft).
absl::StatusOr<v1::FederationManifest> ReadAnyManifest(
    const std::string& path, std::vector<std::string>* signers) {
  HAVEN_ASSIGN_OR_RETURN(std::string text, ReadManifestFile(path));
  auto parsed = ReadManifestSignatures(text, path);
  if (!parsed.ok()) return ParseManifestText(text, path);
  if (signers != nullptr) {
    for (const NoteSignature& sig : parsed->signatures) {
      signers->push_back(
          absl::StrFormat("%s (key id %08x)", sig.name, sig.key_id));
    }
  }
  return ParseManifestNoteText(parsed->text, path);
}

void PrintMembers(const v1::FederationManifest& manifest) {
  std::printf("%-24s %-16s %-10s %s\n", "AGENCY", "SECTOR", "STATUS",
              "ENDPOINT");
  for (const v1::Member& m : manifest.members()) {
    const std::string& sector = v1::Sector_Name(m.sector());
    std::string status(
        absl::StripPrefix(v1::MemberStatus_Name(m.status()), "MEMBER_"));
    std::printf("%-24s %-16s %-10s %s\n", m.agency_id().c_str(),
                absl::AsciiStrToLower(sector).c_str(),
                absl::AsciiStrToLower(status).c_str(), m.endpoint().c_str());
  }
}

int Show(const Invocation& in) {
  const std::string input = Positional(in, 0);
  if (input.empty())
    return UsageError("usage: havenctl federation show MANIFEST");
  std::vector<std::string> signers;
  auto manifest = ReadAnyManifest(input, &signers);
  if (!manifest.ok()) return Report(manifest.status());
  std::printf("federation  %s\nserial      %llu\nmembers     %d\n",
              manifest->federation().c_str(),
              static_cast<unsigned long long>(manifest->serial()),
              manifest->members_size());
  std::printf("signatures  %s\n",
              signers.empty() ? "none (an unsigned draft)"
                              : absl::StrCat(absl::StrJoin(signers, ", "),
                                             " (not checked here: use havenctl "
                                             "federation verify)")
                                    .c_str());
  std::printf("\n");
  PrintMembers(*manifest);
  for (const v1::Member& m : manifest->members()) {
    std::printf("\n%s (%s)\n  certificate sha256  %s\n", m.agency_id().c_str(),
                m.name().c_str(), m.cert_sha256().c_str());
    std::printf("  verifier key        %s\n", m.verifier_key().c_str());
  }
  return kExitOk;
}

int Members(const Invocation& in) {
  const std::string input = Positional(in, 0);
  if (input.empty()) {
    return UsageError("usage: havenctl federation members MANIFEST");
  }
  auto manifest = ReadAnyManifest(input, nullptr);
  if (!manifest.ok()) return Report(manifest.status());
  PrintMembers(*manifest);
  return kExitOk;
}

int Diff(const Invocation& in) {
  const std::string old_path = Positional(in, 0);
  const std::string new_path = Positional(in, 1);
  if (old_path.empty() || new_path.empty()) {
    return UsageError("usage: havenctl federation diff OLD NEW");
  }
  auto before = ReadAnyManifest(old_path, nullptr);
  if (!before.ok()) return Report(before.status());
  auto after = ReadAnyManifest(new_path, nullptr);
  if (!after.ok()) return Report(after.status());
  if (before->federation() != after->federation()) {
    std::printf("federation  %s -> %s (a node refuses this change)\n",
                before->federation().c_str(), after->federation().c_str());
  }
  std::printf("serial      %llu -> %llu%s\n",
              static_cast<unsigned long long>(before->serial()),
              static_cast<unsigned long long>(after->serial()),
              after->serial() > before->serial()
                  ? ""
                  : " (not higher: a node holding OLD refuses NEW)");
  std::vector<MemberChange> changes = DiffManifests(&*before, *after);
  if (changes.empty()) std::printf("no membership change\n");
  for (const MemberChange& change : changes) {
    std::string what(MemberChangeName(change.kind));
    if (!change.fields.empty()) {
      what = change.kind == MemberChange::Kind::kJoined
                 ? "joined, suspended"
                 : absl::StrCat(what, ": ", absl::StrJoin(change.fields, ", "));
    }
    std::printf("%-24s %s\n", change.agency_id.c_str(), what.c_str());
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> FederationCommands() {
  return {
      {"federation",
       "keygen",
       "make an operator's federation signing key (offline)",
       "havenctl federation keygen --name NAME --out KEYFILE\n"
       "  Writes the signing key to KEYFILE (mode 0600, never overwritten)\n"
       "  and prints its verifier key, for every node's\n"
       "  federation_verifier_keys.",
       {"name", "out"},
       Keygen},
      {"federation",
       "sign",
       "sign a federation manifest, or add a signature to a signed one",
       "havenctl federation sign --key KEYFILE [--out FILE] MANIFEST\n"
       "  MANIFEST is a text-format draft (checked, then signed in its\n"
       "  canonical form) or a signed manifest (one more operator's\n"
       "  signature is added: k of n). Prints the signed manifest, or\n"
       "  writes it to a new FILE.",
       {"key", "out"},
       Sign},
      {"federation",
       "verify",
       "check a signed manifest's operator signatures",
       "havenctl federation verify --key VKEY [--key VKEY ...] "
       "[--required K] MANIFEST\n"
       "  Exit 0 if K (default 1) of the given keys signed it, 4 if not.",
       {"key", "required"},
       Verify},
      {"federation",
       "show",
       "print a manifest: serial, signers and members",
       "havenctl federation show MANIFEST",
       {},
       Show},
      {"federation",
       "members",
       "list a manifest's members and their status",
       "havenctl federation members MANIFEST",
       {},
       Members},
      {"federation",
       "diff",
       "what a new manifest changes: members joined, suspended, "
       "reinstated, removed or changed",
       "havenctl federation diff OLD NEW",
       {},
       Diff},
  };
}

}  // namespace haven::client::cli
