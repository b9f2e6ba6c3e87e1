// C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, and the C2SP
// tlog-checkpoint body they carry. Compatible with Go's
// golang.org/x/mod/sumdb/note.
//
//   note      = text "\n" 1*signature-line
//   text      = one or more lines, each ending in "\n"
//   sig line  = "— " name " " base64(key id (4 bytes, big endian) || sig) "\n"
//               (the dash is U+2014 EM DASH)
//   key id    = first 4 bytes of SHA-256(name || "\n" || 0x01 || public key)
//   verifier  = name "+" hex(key id, 8 digits) "+" base64(0x01 || public key)
//   checkpoint text = origin "\n" decimal tree size "\n" base64 root "\n"
//                     (optional extension lines follow)
//
// A name is non-empty, holds no whitespace and no '+'. The whole note is
// UTF-8 with no ASCII control characters except newline.
//
// Pure functions; thread-safe.
#ifndef HAVEN_CLIENT_VERIFY_SIGNED_NOTE_H_
#define HAVEN_CLIENT_VERIFY_SIGNED_NOTE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace haven::client {

// The algorithm byte for Ed25519 in signed-note keys.
inline constexpr uint8_t kNoteAlgEd25519 = 0x01;

// A parsed Ed25519 verifier key.
struct NoteVerifierKey {
  std::string name;
  uint32_t key_id = 0;
  std::string public_key;  // 32 bytes
};

// One signature line of a note.
struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  std::string signature;  // the bytes after the key id (64 for Ed25519)
};

// A note split into its signed text and signature lines (not verified).
struct ParsedNote {
  std::string text;  // ends in "\n"; this is what is signed
  std::vector<NoteSignature> signatures;
};

// The body of a tlog checkpoint.
struct CheckpointBody {
  std::string origin;
  uint64_t tree_size = 0;
  std::string root_hash;                // 32 bytes
  std::vector<std::string> extensions;  // extra lines, without "\n"
};

// True if `name` may name a key: non-empty, no whitespace, no '+'.
bool IsValidNoteName(absl::string_view name);

// Key id of an Ed25519 key called `name`. Requires a 32-byte public key.
uint32_t NoteKeyId(absl::string_view name, absl::string_view public_key);
// Key id for the signature type `alg` (0x01 notes, 0x04 cosignatures):
// first 4 bytes of SHA-256(name || "\n" || alg || public key).
uint32_t NoteKeyIdForType(uint8_t alg, absl::string_view name,
                          absl::string_view public_key);

// "<name>+<keyid hex>+<base64(0x01 || public key)>". INVALID_ARGUMENT for a
// bad name or a public key that is not 32 bytes.
absl::StatusOr<std::string> FormatVerifierKey(absl::string_view name,
                                              absl::string_view public_key);
// Parses a verifier key string; INVALID_ARGUMENT naming the problem when it
// is malformed, not Ed25519, or its key id does not match its name and key.
absl::StatusOr<NoteVerifierKey> ParseVerifierKey(absl::string_view vkey);
// As FormatVerifierKey and ParseVerifierKey for the signature type `alg`,
// whose public key is 32 Ed25519 bytes (0x01 and 0x04).
absl::StatusOr<std::string> FormatVerifierKeyForType(
    uint8_t alg, absl::string_view name, absl::string_view public_key);
absl::StatusOr<NoteVerifierKey> ParseVerifierKeyForType(uint8_t alg,
                                                        absl::string_view vkey);

// One signature line, "— name base64(key id || signature)\n".
std::string FormatSignatureLine(absl::string_view name, uint32_t key_id,
                                absl::string_view signature);

// Splits a note into text and signature lines, enforcing the format rules
// above (at most 100 signatures). INVALID_ARGUMENT when malformed.
absl::StatusOr<ParsedNote> ParseNote(absl::string_view note);

// Verifies `note` against `key`: the note must be well formed and carry a
// signature line whose name and key id match `key` and whose signature
// verifies over the text. Returns the signed text. INVALID_ARGUMENT for a
// malformed note, NOT_FOUND if no line is by `key`, DATA_LOSS if the
// signature by `key` is invalid.
absl::StatusOr<std::string> OpenNote(absl::string_view note,
                                     const NoteVerifierKey& key);

// The checkpoint text for `body` (extensions included, each plus "\n").
std::string FormatCheckpointBody(const CheckpointBody& body);

// The origin line (and verifier key name) of `agency_id`'s audit log: the
// one name a node signs its checkpoints under and every verifier expects.
std::string LogOrigin(absl::string_view agency_id);
// Parses checkpoint text; INVALID_ARGUMENT when malformed (missing lines,
// non-canonical size, root that is not base64 of 32 bytes, empty line).
absl::StatusOr<CheckpointBody> ParseCheckpointBody(absl::string_view text);

// OpenNote then ParseCheckpointBody. If `want_origin` is not empty the
// checkpoint's origin must equal it (FAILED_PRECONDITION otherwise).
absl::StatusOr<CheckpointBody> VerifyCheckpoint(absl::string_view note,
                                                const NoteVerifierKey& key,
                                                absl::string_view want_origin);

}  // namespace haven::client

#endif  // HAVEN_CLIENT_VERIFY_SIGNED_NOTE_H_
