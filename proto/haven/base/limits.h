// Limits on what a local caller or a peer may send, checked before anything
// is stored or logged (INVALID_ARGUMENT or RESOURCE_EXHAUSTED beyond them),
// and on what one read returns. The proto comments of each field name the
// limit that applies; this is the one place the numbers are.
#ifndef HAVEN_BASE_LIMITS_H_
#define HAVEN_BASE_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace haven::limits {

// Ids this node makes (subjects, records, consents, refusals, handles):
// exactly this many lower-case hex characters (16 random bytes). A request
// naming one in another form is refused before any lookup.
inline constexpr size_t kNodeIdChars = 32;
// A subject pseudonym in the audit log: hex HMAC-SHA-256.
inline constexpr size_t kPseudonymChars = 64;
// A SHA-256 digest sent as bytes (a consent's or refusal's evidence, a
// checkpoint's root hash).
inline constexpr size_t kSha256Bytes = 32;

// Record fields: a name of [a-z0-9_] and an opaque value.
inline constexpr size_t kMaxFieldNameBytes = 64;
inline constexpr size_t kMaxFieldValueBytes = 64 * 1024;

// A sharing policy as loaded (LoadPolicyRequest), and the name of its
// format ("textproto" or "json").
inline constexpr size_t kMaxPolicyBytes = 1 << 20;
inline constexpr size_t kMaxPolicyFormatBytes = 16;

// A path on the node's host an admin names (a backup's directory):
// PATH_MAX.
inline constexpr size_t kMaxPathBytes = 4096;

// Free text that is logged: reasons, justifications.
inline constexpr size_t kMaxReasonBytes = 500;
inline constexpr size_t kMaxJustificationBytes = 2000;
// A peer's request id, a local principal's name.
inline constexpr size_t kMaxRequestIdChars = 64;
inline constexpr size_t kMaxPrincipalBytes = 128;
// One serialized request inside a peer's signed batch.
inline constexpr size_t kMaxRequestBytes = 16 * 1024;
// Categories asked in one request.
inline constexpr int kMaxCategoriesPerRequest = 32;
// What a peer may send in ExchangeCheckpoint: its checkpoint as a signed
// note (room for many cosignatures) and the note's origin line.
inline constexpr size_t kMaxCheckpointNoteBytes = 16 * 1024;
inline constexpr size_t kMaxCheckpointOriginBytes = 128;
// Witnessing (server/exchange/witness.h, cosignature_store.h). The
// cosignatures a node keeps of one of its checkpoints: one per witness,
// at most this many (the note parser takes at most 100 signature lines).
inline constexpr int kMaxCosignaturesPerCheckpoint = 32;
// Of its own checkpoints, how many cosigned ones a node keeps (the newest).
inline constexpr int kMaxCosignedCheckpoints = 8;
// The checkpoint failures a witness keeps per peer (the newest).
inline constexpr int kMaxWitnessFailuresPerPeer = 8;
// A peer's Echo payload (a load-test round trip; nothing is kept).
inline constexpr size_t kMaxEchoPayloadBytes = 64 * 1024;

// What a holder sends a grantee (OfferHandleRequest,
// NotifyRevocationRequest).
//
// An agency id named in a handle or a notice. It must also equal the
// caller's or this node's id, but is bounded first so that nothing large is
// hashed or compared.
inline constexpr size_t kMaxAgencyIdBytes = 64;
// Members of a federation manifest (a bigger manifest does not load), so
// that what a membership change walks is bounded.
inline constexpr size_t kMaxManifestMembers = 1000;
// A signed federation manifest, file or relayed by a peer (GetManifest):
// room for kMaxManifestMembers members of about 1 KiB each.
inline constexpr size_t kMaxManifestNoteBytes = 1024 * 1024;
// Operator verifier keys a node trusts for the manifest.
inline constexpr size_t kMaxFederationVerifierKeys = 16;
// A revocation notice's id (the holder's is "<consent>/<change>/<nanos>").
inline constexpr size_t kMaxNoticeIdBytes = 128;
// A notice's change: "revoked", "paused", "refused" or "withdrawn".
inline constexpr size_t kMaxNoticeChangeBytes = 16;
// A holder's signature: Ed25519, exactly this long.
inline constexpr size_t kPeerSignatureBytes = 64;
// A whole offer or notice request as serialized, fields this node does not
// know included (a holder's signature covers them, so they would otherwise
// be kept and shown). Several times what the known fields can take at their
// limits, for fields a newer holder may add.
inline constexpr size_t kMaxHandleOfferBytes = 1024;
inline constexpr size_t kMaxRevocationNoticeBytes = 1024;
// Handles a grantee keeps from one holder; further offers get
// RESOURCE_EXHAUSTED until the holder withdraws some.
inline constexpr size_t kMaxHandlesPerHolder = 100000;
// Revocation notices a node keeps in memory for its local watchers; older
// ones are dropped (their audit entries are the durable record).
inline constexpr size_t kNoticesKept = 1024;

// Personal accounts (auth.proto, server/auth/accounts.h).
//
// An account name: 1 to this many bytes of [a-z0-9._-], starting with a
// letter or digit (server/auth/accounts.h, IsValidAccountName).
inline constexpr size_t kMaxAccountNameBytes = 64;
// Accounts one node holds (AddUser beyond: RESOURCE_EXHAUSTED).
inline constexpr size_t kMaxAccounts = 10000;
// How long an enrolment code (AddUser, ResetUser) stays valid.
inline constexpr int64_t kEnrolmentCodeSeconds = 72 * 3600;
// What a caller may type as an enrolment code or a TOTP code; anything
// longer is refused before any lookup.
inline constexpr size_t kMaxEnrolmentCodeBytes = 64;
inline constexpr size_t kMaxTotpCodeBytes = 16;
// A password: at least kMinPasswordBytes, at most kMaxPasswordBytes (so
// that nothing large reaches Argon2id).
inline constexpr size_t kMinPasswordBytes = 12;
inline constexpr size_t kMaxPasswordBytes = 256;
// Consecutive failed sign-ins of one account. From the
// kSignInFailuresBeforeBackoff-th on, the account backs off: no sign-in
// is tried for kSignInBackoffFirstSeconds, doubling with each further
// failure up to kSignInBackoffMaxSeconds. At kMaxFailedSignIns it is
// LOCKED until an admin resets it.
inline constexpr uint32_t kSignInFailuresBeforeBackoff = 5;
inline constexpr int64_t kSignInBackoffFirstSeconds = 30;
inline constexpr int64_t kSignInBackoffMaxSeconds = 15 * 60;
inline constexpr uint32_t kMaxFailedSignIns = 20;
// Personal sessions held in memory at once (SignIn beyond, once expired
// ones are dropped: RESOURCE_EXHAUSTED).
inline constexpr size_t kMaxSessions = 10000;
// A subject's case reference (CreateSubjectRequest.case_reference):
// printable ASCII, 1 to this many bytes.
inline constexpr size_t kMaxCaseReferenceBytes = 64;

// Reads. A page of any read API stops before kMaxReadBytes of serialized
// items, well under gRPC's default 4 MiB message limit, but always holds
// its first item, so that a reader continuing from what it got advances.
inline constexpr size_t kMaxReadBytes = 1 << 20;
// One item alone (an audit entry with its leaf) may take up to this, which
// leaves room under gRPC's limit for the response around it; an audit read
// sends a larger entry as its leaf alone, and refuses one whose leaf alone
// is larger (RESOURCE_EXHAUSTED).
inline constexpr size_t kMaxItemReadBytes = (4 << 20) - (64 << 10);
// Audit entries in one read (GetEntries, and each fetch of Follow).
inline constexpr size_t kMaxEntriesPerRead = 1000;
// Received handles in one page (ListHandles).
inline constexpr size_t kMaxHandlesPerPage = 1000;
// A page token a client sends back (ListHandles: "<holder>/<handle>").
inline constexpr size_t kMaxPageTokenBytes = 256;

}  // namespace haven::limits

#endif  // HAVEN_BASE_LIMITS_H_
