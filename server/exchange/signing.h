// What exactly is signed in an exchange. Handles and notices are signed one
// by one: the signature covers a context line and the message's
// deterministic protobuf serialization. Disclosure requests and answers are
// signed a batch at a time (client/verify/signed_batch.h). The context line
// means a signature over one kind of message never verifies as another.
#ifndef HAVEN_SERVER_EXCHANGE_SIGNING_H_
#define HAVEN_SERVER_EXCHANGE_SIGNING_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "client/verify/signed_batch.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "haven/base/deterministic.h"
#include "haven/v1/federation.pb.h"
#include "server/crypto/ed25519_signer.h"

namespace haven::server::exchange {

inline constexpr absl::string_view kHandleContext = "haven.v1.SubjectHandle\n";
inline constexpr absl::string_view kNoticeContext =
    "haven.v1.RevocationNotice\n";

using ::haven::Deterministic;

inline std::string Sign(const crypto::Ed25519Signer& signer,
                        absl::string_view context, absl::string_view bytes) {
  return signer.SignToString(absl::StrCat(context, bytes));
}

// Signs the batch of `items` (each a serialized message) under `context`.
inline std::string SignBatch(
    const crypto::Ed25519Signer& signer, absl::string_view context,
    const google::protobuf::RepeatedPtrField<std::string>& items) {
  return signer.SignToString(
      client::BatchMessage(context, client::BatchDigests(items)));
}

// The keys a member's signatures verify under: its verifier_key and,
// during a signing-key rotation, its next_verifier_key (the manifest checked
// both parse and name the member's log).
inline std::vector<std::string> MemberVerifierKeys(
    const haven::v1::Member& member) {
  std::vector<std::string> keys = {member.verifier_key()};
  if (!member.next_verifier_key().empty()) {
    keys.push_back(member.next_verifier_key());
  }
  return keys;
}

// The first OK of `verify(key)` over MemberVerifierKeys(member), else the
// error under verifier_key (the key most verifiers know the member by).
template <typename Verify>
auto VerifyByMember(const haven::v1::Member& member, Verify verify)
    -> decltype(verify(member.verifier_key())) {
  auto result = verify(member.verifier_key());
  if (result.ok() || member.next_verifier_key().empty()) return result;
  auto next = verify(member.next_verifier_key());
  if (next.ok()) return next;
  return result;
}

// OK if `signature` is `member`'s signature (by either key) of
// context || bytes.
inline absl::Status VerifySignedBy(const haven::v1::Member& member,
                                   absl::string_view context,
                                   absl::string_view bytes,
                                   absl::string_view signature) {
  const std::string message = absl::StrCat(context, bytes);
  return VerifyByMember(member, [&](const std::string& key) {
    return client::VerifyManifestSignature(key, message, signature,
                                           member.agency_id());
  });
}

// OK if `signature` is `verifier_key`'s signature of context || bytes.
// `who` names the signer in the error.
inline absl::Status VerifySigned(absl::string_view verifier_key,
                                 absl::string_view context,
                                 absl::string_view bytes,
                                 absl::string_view signature,
                                 absl::string_view who) {
  return client::VerifyManifestSignature(
      verifier_key, absl::StrCat(context, bytes), signature, who);
}

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_SIGNING_H_
