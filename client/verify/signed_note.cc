#include "client/verify/signed_note.h"

#include <charconv>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/verify/crypto.h"

namespace haven::client {
namespace {

constexpr absl::string_view kSigPrefix = "\xE2\x80\x94 ";  // "— "
constexpr int kMaxSignatures = 100;

// Standard base64 with padding, rejecting anything that does not re-encode
// to the same text (whitespace, missing padding, stray bits).
bool StrictBase64Decode(absl::string_view in, std::string* out) {
  if (in.empty() || !absl::Base64Unescape(in, out)) return false;
  return absl::Base64Escape(*out) == in;
}

uint32_t ReadBigEndian32(absl::string_view b) {
  return (uint32_t{static_cast<uint8_t>(b[0])} << 24) |
         (uint32_t{static_cast<uint8_t>(b[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(b[2])} << 8) |
         uint32_t{static_cast<uint8_t>(b[3])};
}

std::string BigEndian32(uint32_t v) {
  std::string out(4, '\0');
  out[0] = static_cast<char>(v >> 24);
  out[1] = static_cast<char>(v >> 16);
  out[2] = static_cast<char>(v >> 8);
  out[3] = static_cast<char>(v);
  return out;
}

// UTF-8 well-formedness (no overlongs, no surrogates) and no ASCII control
// characters other than '\n'.
bool IsValidNoteBytes(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\n') return false;
      ++i;
      continue;
    }
    int len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (int j = 1; j < len; ++j) {
      auto cc = static_cast<uint8_t>(s[i + j]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

bool IsValidNoteName(absl::string_view name) {
  if (name.empty() || !IsValidNoteBytes(name)) return false;
  for (char c : name) {
    if (c == '+' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
        c == '\v' || c == '\f') {
      return false;
    }
  }
  // Unicode spaces (e.g. U+00A0, U+2000..U+200A, U+3000) are rejected by the
  // reference implementation too; reject any non-ASCII byte sequence that
  // encodes one of the common ones.
  for (absl::string_view space :
       {"\xC2\x85", "\xC2\xA0", "\xE1\x9A\x80", "\xE2\x80\xA8", "\xE2\x80\xA9",
        "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80"}) {
    if (absl::StrContains(name, space)) return false;
  }
  for (int c = 0x80; c <= 0x8A; ++c) {
    std::string space = "\xE2\x80";
    space.push_back(static_cast<char>(c));
    if (absl::StrContains(name, space)) return false;
  }
  return true;
}

uint32_t NoteKeyId(absl::string_view name, absl::string_view public_key) {
  return NoteKeyIdForType(kNoteAlgEd25519, name, public_key);
}

uint32_t NoteKeyIdForType(uint8_t alg, absl::string_view name,
                          absl::string_view public_key) {
  std::string buf = absl::StrCat(name, "\n");
  buf.push_back(static_cast<char>(alg));
  buf.append(public_key.data(), public_key.size());
  return ReadBigEndian32(Sha256(buf));
}

absl::StatusOr<std::string> FormatVerifierKey(absl::string_view name,
                                              absl::string_view public_key) {
  return FormatVerifierKeyForType(kNoteAlgEd25519, name, public_key);
}

absl::StatusOr<std::string> FormatVerifierKeyForType(
    uint8_t alg, absl::string_view name, absl::string_view public_key) {
  if (!IsValidNoteName(name)) {
    return absl::InvalidArgumentError(
        "key name must be non-empty with no whitespace and no '+'");
  }
  if (public_key.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError("Ed25519 public key must be 32 bytes");
  }
  std::string encoded(1, static_cast<char>(alg));
  encoded.append(public_key.data(), public_key.size());
  char hex[9];
  uint32_t id = NoteKeyIdForType(alg, name, public_key);
  for (int i = 0; i < 8; ++i) {
    hex[i] = "0123456789abcdef"[(id >> (28 - 4 * i)) & 0xF];
  }
  hex[8] = '\0';
  return absl::StrCat(name, "+", hex, "+", absl::Base64Escape(encoded));
}

absl::StatusOr<NoteVerifierKey> ParseVerifierKey(absl::string_view vkey) {
  return ParseVerifierKeyForType(kNoteAlgEd25519, vkey);
}

absl::StatusOr<NoteVerifierKey> ParseVerifierKeyForType(
    uint8_t alg, absl::string_view vkey) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(vkey, absl::MaxSplits('+', 2));
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(
        "verifier key must be <name>+<key id>+<base64 key>");
  }
  NoteVerifierKey key;
  key.name = std::string(parts[0]);
  if (!IsValidNoteName(key.name)) {
    return absl::InvalidArgumentError("verifier key has an invalid name");
  }
  absl::string_view hex = parts[1];
  if (hex.size() != 8) {
    return absl::InvalidArgumentError(
        "verifier key id must be 8 lower-case hex digits");
  }
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return absl::InvalidArgumentError(
          "verifier key id must be 8 lower-case hex digits");
    }
  }
  uint32_t id = 0;
  std::from_chars(hex.data(), hex.data() + hex.size(), id, 16);
  std::string raw;
  if (!StrictBase64Decode(parts[2], &raw)) {
    return absl::InvalidArgumentError("verifier key is not valid base64");
  }
  if (raw.size() != 1 + kEd25519PublicKeySize ||
      static_cast<uint8_t>(raw[0]) != alg) {
    return absl::InvalidArgumentError(absl::StrCat(
        "verifier key is not of the expected type (0x",
        absl::Hex(alg, absl::kZeroPad2), " followed by a 32-byte key)"));
  }
  key.public_key = raw.substr(1);
  key.key_id = id;
  if (NoteKeyIdForType(alg, key.name, key.public_key) != id) {
    return absl::InvalidArgumentError(
        "verifier key id does not match its name and public key");
  }
  return key;
}

std::string FormatSignatureLine(absl::string_view name, uint32_t key_id,
                                absl::string_view signature) {
  return absl::StrCat(
      kSigPrefix, name, " ",
      absl::Base64Escape(absl::StrCat(BigEndian32(key_id), signature)), "\n");
}

absl::StatusOr<ParsedNote> ParseNote(absl::string_view note) {
  if (!IsValidNoteBytes(note)) {
    return absl::InvalidArgumentError(
        "malformed note: not UTF-8 or holds control characters");
  }
  size_t split = note.rfind("\n\n");
  if (split == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "malformed note: no blank line before the signatures");
  }
  ParsedNote parsed;
  parsed.text = std::string(note.substr(0, split + 1));
  absl::string_view sigs = note.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') {
    return absl::InvalidArgumentError(
        "malformed note: signature block missing or not ending in newline");
  }
  while (!sigs.empty()) {
    size_t nl = sigs.find('\n');
    absl::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (!absl::ConsumePrefix(&line, kSigPrefix)) {
      return absl::InvalidArgumentError(
          "malformed note: signature line does not start with \"— \"");
    }
    size_t space = line.find(' ');
    if (space == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          "malformed note: signature line has no space after the name");
    }
    NoteSignature sig;
    sig.name = std::string(line.substr(0, space));
    std::string raw;
    if (!IsValidNoteName(sig.name) ||
        !StrictBase64Decode(line.substr(space + 1), &raw) || raw.size() < 5) {
      return absl::InvalidArgumentError(
          "malformed note: bad signer name or signature encoding");
    }
    if (parsed.signatures.size() >= kMaxSignatures) {
      return absl::InvalidArgumentError(
          "malformed note: more than 100 signatures");
    }
    sig.key_id = ReadBigEndian32(raw);
    sig.signature = raw.substr(4);
    parsed.signatures.push_back(std::move(sig));
  }
  return parsed;
}

absl::StatusOr<std::string> OpenNote(absl::string_view note,
                                     const NoteVerifierKey& key) {
  absl::StatusOr<ParsedNote> parsed = ParseNote(note);
  if (!parsed.ok()) return parsed.status();
  for (const NoteSignature& sig : parsed->signatures) {
    if (sig.name != key.name || sig.key_id != key.key_id) continue;
    if (!VerifyEd25519(key.public_key, parsed->text, sig.signature)) {
      return absl::DataLossError(
          absl::StrCat("invalid signature by key ", key.name, " on the note"));
    }
    return std::move(parsed->text);
  }
  return absl::NotFoundError(
      absl::StrCat("note has no signature by key ", key.name));
}

std::string FormatCheckpointBody(const CheckpointBody& body) {
  std::string out = absl::StrCat(body.origin, "\n", body.tree_size, "\n",
                                 absl::Base64Escape(body.root_hash), "\n");
  for (const std::string& ext : body.extensions)
    absl::StrAppend(&out, ext, "\n");
  return out;
}

absl::StatusOr<CheckpointBody> ParseCheckpointBody(absl::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError(
        "malformed checkpoint: text must end in a newline");
  }
  text.remove_suffix(1);
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (lines.size() < 3) {
    return absl::InvalidArgumentError(
        "malformed checkpoint: needs origin, tree size and root lines");
  }
  for (absl::string_view line : lines) {
    if (line.empty()) {
      return absl::InvalidArgumentError("malformed checkpoint: empty line");
    }
  }
  CheckpointBody body;
  body.origin = std::string(lines[0]);
  absl::string_view size = lines[1];
  bool digits = !size.empty() && size.size() <= 20;
  for (char c : size) digits = digits && c >= '0' && c <= '9';
  if (!digits || (size.size() > 1 && size[0] == '0') ||
      !absl::SimpleAtoi(size, &body.tree_size)) {
    return absl::InvalidArgumentError(
        "malformed checkpoint: tree size must be a canonical decimal number");
  }
  if (!StrictBase64Decode(lines[2], &body.root_hash) ||
      body.root_hash.size() != kSha256Size) {
    return absl::InvalidArgumentError(
        "malformed checkpoint: root must be base64 of 32 bytes");
  }
  for (size_t i = 3; i < lines.size(); ++i) {
    body.extensions.emplace_back(lines[i]);
  }
  return body;
}

absl::StatusOr<CheckpointBody> VerifyCheckpoint(absl::string_view note,
                                                const NoteVerifierKey& key,
                                                absl::string_view want_origin) {
  absl::StatusOr<std::string> text = OpenNote(note, key);
  if (!text.ok()) return text.status();
  absl::StatusOr<CheckpointBody> body = ParseCheckpointBody(*text);
  if (!body.ok()) return body.status();
  if (!want_origin.empty() && body->origin != want_origin) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint origin is \"", body->origin, "\", want \"",
                     want_origin, "\""));
  }
  return body;
}

std::string LogOrigin(absl::string_view agency_id) {
  return absl::StrCat(agency_id, ".haven/log");
}

}  // namespace haven::client
