// Batch signatures of the exchange between agencies.
//
// A node signs many messages of one kind at once: the requester a batch of
// disclosure requests, the holder the batch of its answers. The signed
// message is a context line followed by the SHA-256 of each item in order:
//
//   context || SHA-256(item_0) || SHA-256(item_1) || ...
//
// so one item can later be shown and checked alone, with the digests of the
// others (which reveal nothing: every item holds a random request id). The
// context names the kind, so a signature over one kind never verifies as
// another.
//
// Pure functions; thread-safe.
#ifndef HAVEN_CLIENT_VERIFY_SIGNED_BATCH_H_
#define HAVEN_CLIENT_VERIFY_SIGNED_BATCH_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "haven/v1/exchange.pb.h"

namespace haven::client {

inline constexpr absl::string_view kRequestBatchContext =
    "haven.v1.DisclosureRequestBatch\n";
inline constexpr absl::string_view kAnswerBatchContext =
    "haven.v1.DisclosureAnswerBatch\n";
// The most requests one DiscloseRequest may hold.
inline constexpr int kMaxRequestBatch = 64;

// The bytes a batch signature covers, from the items' SHA-256 digests.
std::string BatchMessage(absl::string_view context,
                         const std::vector<std::string>& digests);
// The SHA-256 digest of each item.
std::vector<std::string> BatchDigests(
    const google::protobuf::RepeatedPtrField<std::string>& items);

// OK if `signature` is the Ed25519 signature of `message` under
// `verifier_key` (a signed-note verifier key, as in the federation
// manifest). UNAUTHENTICATED if not; FAILED_PRECONDITION if the key does not
// parse. `who` names the signer in the error.
absl::Status VerifyManifestSignature(absl::string_view verifier_key,
                                     absl::string_view message,
                                     absl::string_view signature,
                                     absl::string_view who);

// As VerifyManifestSignature, for the batch under `context` with these
// digests.
absl::Status VerifyBatchSignature(absl::string_view verifier_key,
                                  absl::string_view context,
                                  const std::vector<std::string>& digests,
                                  absl::string_view signature,
                                  absl::string_view who);

// Checks that `signed_answer` is an answer the holder `who` with
// `verifier_key` signed, and returns it. DATA_LOSS if the answer is not the
// one at its place in the batch or does not parse; see VerifyBatchSignature
// for the rest.
absl::StatusOr<haven::v1::DisclosureAnswer> VerifySignedDisclosure(
    absl::string_view verifier_key,
    const haven::v1::SignedDisclosure& signed_answer, absl::string_view who);

}  // namespace haven::client

#endif  // HAVEN_CLIENT_VERIFY_SIGNED_BATCH_H_
