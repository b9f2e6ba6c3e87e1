#include "client/verify/signed_batch.h"

#include "absl/strings/str_cat.h"
#include "client/verify/crypto.h"
#include "client/verify/signed_note.h"

namespace haven::client {

std::string BatchMessage(absl::string_view context,
                         const std::vector<std::string>& digests) {
  std::string message(context);
  message.reserve(context.size() + digests.size() * kSha256Size);
  for (const std::string& digest : digests) message += digest;
  return message;
}

std::vector<std::string> BatchDigests(
    const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::vector<std::string> digests;
  digests.reserve(items.size());
  for (const std::string& item : items) digests.push_back(Sha256(item));
  return digests;
}

absl::Status VerifyManifestSignature(absl::string_view verifier_key,
                                     absl::string_view message,
                                     absl::string_view signature,
                                     absl::string_view who) {
  absl::StatusOr<NoteVerifierKey> key = ParseVerifierKey(verifier_key);
  if (!key.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the federation manifest has no valid signing key for '", who, "'"));
  }
  if (!VerifyEd25519(key->public_key, message, signature)) {
    return absl::UnauthenticatedError(absl::StrCat(
        "signature does not verify under the manifest key of '", who, "'"));
  }
  return absl::OkStatus();
}

absl::Status VerifyBatchSignature(absl::string_view verifier_key,
                                  absl::string_view context,
                                  const std::vector<std::string>& digests,
                                  absl::string_view signature,
                                  absl::string_view who) {
  return VerifyManifestSignature(verifier_key, BatchMessage(context, digests),
                                 signature, who);
}

absl::StatusOr<haven::v1::DisclosureAnswer> VerifySignedDisclosure(
    absl::string_view verifier_key,
    const haven::v1::SignedDisclosure& signed_answer, absl::string_view who) {
  const auto& batch = signed_answer.batch_sha256();
  const size_t index = signed_answer.batch_index();
  if (index >= static_cast<size_t>(batch.size()) ||
      batch[static_cast<int>(index)] != Sha256(signed_answer.answer())) {
    return absl::DataLossError(
        "the answer is not the one its batch signature covers");
  }
  for (const std::string& digest : batch) {
    if (digest.size() != kSha256Size) {
      return absl::DataLossError("a batch digest is not 32 bytes");
    }
  }
  absl::Status signed_ok =
      VerifyBatchSignature(verifier_key, kAnswerBatchContext,
                           std::vector<std::string>(batch.begin(), batch.end()),
                           signed_answer.signature(), who);
  if (!signed_ok.ok()) return signed_ok;
  haven::v1::DisclosureAnswer answer;
  if (!answer.ParseFromString(signed_answer.answer())) {
    return absl::DataLossError("the signed answer does not parse");
  }
  return answer;
}

}  // namespace haven::client
