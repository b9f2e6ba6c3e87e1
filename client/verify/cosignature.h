// C2SP tlog-cosignature (c2sp.org/tlog-cosignature), Ed25519 type,
// cosignature/v1: a witness's statement that, as of a time, the checkpoint
// is the largest consistent tree head it has seen of that log.
//
//   signed message = "cosignature/v1\n" "time " decimal(timestamp) "\n"
//                    checkpoint text (the note body, without signatures)
//   signature line = "— " name " " base64(key id (4) || be64(timestamp) ||
//                    Ed25519 signature (64)) "\n"
//   key id         = first 4 bytes of SHA-256(name || "\n" || 0x04 || key)
//   witness key    = name "+" hex(key id) "+" base64(0x04 || public key)
//
// A cosignature line is an ordinary signed-note signature line, so a
// cosigned checkpoint is still a valid signed note (signed_note.h): a
// verifier that does not know the witness key ignores the line, as Go's
// golang.org/x/mod/sumdb/note does. Signing lives in the server (the
// client holds no secret): it signs CosignedMessage() and formats the line
// with FormatCosignatureLine().
//
// Pure functions; thread-safe.
#ifndef HAVEN_CLIENT_VERIFY_COSIGNATURE_H_
#define HAVEN_CLIENT_VERIFY_COSIGNATURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/verify/signed_note.h"

namespace haven::client {

// The signature type byte of Ed25519 cosignature/v1 keys.
inline constexpr uint8_t kNoteAlgCosignatureV1 = 0x04;
// Bytes after the key id in a cosignature line: timestamp and signature.
inline constexpr size_t kCosignatureBytes = 8 + 64;

// Key id of the cosignature key of witness `name`. Requires a 32-byte key.
uint32_t CosignatureKeyId(absl::string_view name, absl::string_view public_key);
// "<name>+<key id hex>+<base64(0x04 || public key)>". INVALID_ARGUMENT for
// a bad name or a key that is not 32 bytes.
absl::StatusOr<std::string> FormatCosignatureKey(absl::string_view name,
                                                 absl::string_view public_key);
// Parses a witness key; INVALID_ARGUMENT when malformed, of another type,
// or when its key id does not match its name and key.
absl::StatusOr<NoteVerifierKey> ParseCosignatureKey(absl::string_view vkey);
// The witness key of the same name and public key as a note verifier key
// (a node witnesses with its log signing key).
NoteVerifierKey CosignatureKeyFor(const NoteVerifierKey& note_key);

// What a witness signs at `timestamp` (Unix seconds) for `checkpoint_text`
// (the note body, ending in "\n").
std::string CosignedMessage(absl::string_view checkpoint_text,
                            uint64_t timestamp);
// The signature line for a 64-byte `signature` over CosignedMessage().
std::string FormatCosignatureLine(absl::string_view name, uint32_t key_id,
                                  uint64_t timestamp,
                                  absl::string_view signature);

// Checks that `sig` (a line of a parsed note) is a valid cosignature by
// `key` of `checkpoint_text`; returns its timestamp. NOT_FOUND if the line
// is not by `key` (name or key id differ), INVALID_ARGUMENT if its length
// is not 72 bytes or its timestamp is past 2^63 - 1, DATA_LOSS if the
// signature does not verify.
absl::StatusOr<uint64_t> VerifyCosignature(absl::string_view checkpoint_text,
                                           const NoteSignature& sig,
                                           const NoteVerifierKey& key);

// How many of `witnesses` have a valid cosignature in `note` (each key
// counted once, however many lines it has). INVALID_ARGUMENT if the note
// is malformed; a line by a listed key that does not verify is DATA_LOSS,
// since a witness key must never sign wrongly.
absl::StatusOr<int> CountCosignatures(
    absl::string_view note, const std::vector<NoteVerifierKey>& witnesses);

}  // namespace haven::client

#endif  // HAVEN_CLIENT_VERIFY_COSIGNATURE_H_
