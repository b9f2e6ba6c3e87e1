// The signed federation manifest: who is in the task force, as the task
// force's operators signed it. A C2SP signed note (signed_note.h) whose text
// is a header line and the manifest in protobuf text format:
//
//   haven federation manifest v1
//   federation: "metro-anti-trafficking-task-force"
//   serial: 7
//   members { agency_id: "safe-harbor" ... }
//
//   — op-alice base64(key id || signature)
//   — op-bob base64(key id || signature)
//
// A manifest counts only with valid signatures by `required` distinct keys
// of the operators' keys a node trusts (k of n), so no one operator can add
// or reinstate a member alone. Signature lines by keys not trusted are
// ignored, as in any signed note; a line that claims a trusted key and does
// not verify refuses the whole manifest. The header keeps a manifest
// signature from ever passing for a checkpoint signature and back.
//
// Pure functions; thread-safe. Nodes (server/federation/manifest.h) and
// `havenctl federation` share them.
#ifndef HAVEN_CLIENT_VERIFY_SIGNED_MANIFEST_H_
#define HAVEN_CLIENT_VERIFY_SIGNED_MANIFEST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/verify/signed_note.h"
#include "haven/v1/federation.pb.h"

namespace haven::client {

// The first line of a manifest note's text, without its newline.
inline constexpr absl::string_view kManifestNoteHeader =
    "haven federation manifest v1";

// The operators' keys a node trusts, and how many must sign.
struct ManifestTrust {
  std::vector<NoteVerifierKey> keys;
  int required = 1;
};

// From verifier key strings and k (0 means 1). INVALID_ARGUMENT naming the
// problem: no key, more than limits::kMaxFederationVerifierKeys, a key that
// does not parse, two keys with one name, or k above the number of keys.
absl::StatusOr<ManifestTrust> ParseManifestTrust(
    const std::vector<std::string>& verifier_keys, uint32_t required);

// Parses and checks manifest text format: every member has an id, a sector,
// a status, a host:port endpoint and a fingerprint of 64 lower-case hex;
// ids and fingerprints are distinct; at most limits::kMaxManifestMembers.
// INVALID_ARGUMENT naming `source_name` and, for a member, its position,
// id and field.
absl::StatusOr<haven::v1::FederationManifest> ParseManifestText(
    absl::string_view text, absl::string_view source_name);

// The text a manifest note signs: the header line, then `manifest` in
// canonical text format (no blank line, so the note splits unambiguously).
std::string ManifestNoteText(const haven::v1::FederationManifest& manifest);

// A manifest note whose signatures were checked.
struct VerifiedManifest {
  haven::v1::FederationManifest manifest;
  // Names of the trusted keys whose signatures verified, in trust order.
  std::vector<std::string> signers;
  // Hex SHA-256 of the whole note as given: what the audit log records.
  std::string note_sha256;
};

// Splits a manifest note and parses its text (header, then
// ParseManifestText), checking no signature. For `havenctl federation
// show` and for adding a signature. INVALID_ARGUMENT when malformed or
// larger than limits::kMaxManifestNoteBytes.
absl::StatusOr<haven::v1::FederationManifest> ReadManifestNote(
    absl::string_view note, absl::string_view source_name);

// The framing of ReadManifestNote only (size, note syntax): the signed
// text and its signature lines, for adding a signature.
absl::StatusOr<ParsedNote> ReadManifestSignatures(
    absl::string_view note, absl::string_view source_name);
// The rest of it: the header line, then ParseManifestText.
absl::StatusOr<haven::v1::FederationManifest> ParseManifestNoteText(
    absl::string_view text, absl::string_view source_name);

// ReadManifestNote, then the signatures: at least `trust.required`
// distinct trusted keys must have signed. DATA_LOSS if a signature line by
// a trusted key does not verify; PERMISSION_DENIED if too few trusted keys
// signed (the message says how many of how many).
absl::StatusOr<VerifiedManifest> VerifyManifestNote(
    absl::string_view note, const ManifestTrust& trust,
    absl::string_view source_name);

// How one member's membership differs between two manifests.
struct MemberChange {
  enum class Kind { kJoined, kSuspended, kReinstated, kRemoved, kChanged };
  Kind kind;
  std::string agency_id;
  // kChanged: the fields other than status that differ, by name. kJoined:
  // "status" if the member joins suspended.
  std::vector<std::string> fields;
};
// "joined", "suspended", "reinstated", "removed", "changed".
absl::string_view MemberChangeName(MemberChange::Kind kind);

// The membership changes from `before` (null: none, every member joins)
// to `after`: members of `after` in its order, then members removed. A
// member whose status and other fields both change has two changes.
std::vector<MemberChange> DiffManifests(
    const haven::v1::FederationManifest* before,
    const haven::v1::FederationManifest& after);

}  // namespace haven::client

#endif  // HAVEN_CLIENT_VERIFY_SIGNED_MANIFEST_H_
