#include "client/verify/cosignature.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "client/verify/crypto.h"

namespace haven::client {
namespace {

constexpr absl::string_view kHeader = "cosignature/v1\n";

std::string BigEndian64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
  return out;
}

uint64_t ReadBigEndian64(absl::string_view b) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(b[i]);
  return v;
}

}  // namespace

uint32_t CosignatureKeyId(absl::string_view name,
                          absl::string_view public_key) {
  return NoteKeyIdForType(kNoteAlgCosignatureV1, name, public_key);
}

absl::StatusOr<std::string> FormatCosignatureKey(absl::string_view name,
                                                 absl::string_view public_key) {
  return FormatVerifierKeyForType(kNoteAlgCosignatureV1, name, public_key);
}

absl::StatusOr<NoteVerifierKey> ParseCosignatureKey(absl::string_view vkey) {
  return ParseVerifierKeyForType(kNoteAlgCosignatureV1, vkey);
}

NoteVerifierKey CosignatureKeyFor(const NoteVerifierKey& note_key) {
  NoteVerifierKey key = note_key;
  key.key_id = CosignatureKeyId(key.name, key.public_key);
  return key;
}

std::string CosignedMessage(absl::string_view checkpoint_text,
                            uint64_t timestamp) {
  return absl::StrCat(kHeader, "time ", timestamp, "\n", checkpoint_text);
}

std::string FormatCosignatureLine(absl::string_view name, uint32_t key_id,
                                  uint64_t timestamp,
                                  absl::string_view signature) {
  return FormatSignatureLine(name, key_id,
                             absl::StrCat(BigEndian64(timestamp), signature));
}

absl::StatusOr<uint64_t> VerifyCosignature(absl::string_view checkpoint_text,
                                           const NoteSignature& sig,
                                           const NoteVerifierKey& key) {
  if (sig.name != key.name || sig.key_id != key.key_id) {
    return absl::NotFoundError(
        absl::StrCat("the line is not a cosignature by ", key.name));
  }
  if (sig.signature.size() != kCosignatureBytes) {
    return absl::InvalidArgumentError(
        "a cosignature holds a timestamp and a 64-byte signature");
  }
  const uint64_t timestamp = ReadBigEndian64(sig.signature);
  if (timestamp > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return absl::InvalidArgumentError("cosignature timestamp out of range");
  }
  if (!VerifyEd25519(key.public_key,
                     CosignedMessage(checkpoint_text, timestamp),
                     absl::string_view(sig.signature).substr(8))) {
    return absl::DataLossError(
        absl::StrCat("invalid cosignature by ", key.name));
  }
  return timestamp;
}

absl::StatusOr<int> CountCosignatures(
    absl::string_view note, const std::vector<NoteVerifierKey>& witnesses) {
  absl::StatusOr<ParsedNote> parsed = ParseNote(note);
  if (!parsed.ok()) return parsed.status();
  int count = 0;
  for (const NoteVerifierKey& witness : witnesses) {
    bool found = false;
    for (const NoteSignature& sig : parsed->signatures) {
      absl::StatusOr<uint64_t> checked =
          VerifyCosignature(parsed->text, sig, witness);
      if (checked.status().code() == absl::StatusCode::kNotFound) continue;
      if (!checked.ok()) return checked.status();
      found = true;
    }
    if (found) ++count;
  }
  return count;
}

}  // namespace haven::client
