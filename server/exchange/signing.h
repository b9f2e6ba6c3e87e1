// What exactly is signed in an exchange. Each signed message is its
// deterministic protobuf serialization prefixed by a context line, so a
// signature over one kind of message can never be replayed as another.
#ifndef HAVEN_SERVER_EXCHANGE_SIGNING_H_
#define HAVEN_SERVER_EXCHANGE_SIGNING_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "client/verify/crypto.h"
#include "client/verify/signed_note.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message_lite.h"
#include "server/crypto/ed25519_signer.h"

namespace haven::server::exchange {

inline constexpr absl::string_view kRequestContext =
    "haven.v1.DisclosureRequest\n";
inline constexpr absl::string_view kDisclosureContext = "haven.v1.Disclosure\n";
inline constexpr absl::string_view kHandleContext = "haven.v1.SubjectHandle\n";
inline constexpr absl::string_view kNoticeContext =
    "haven.v1.RevocationNotice\n";

inline std::string Deterministic(const google::protobuf::MessageLite& message) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

inline std::string Sign(const crypto::Ed25519Signer& signer,
                        absl::string_view context, absl::string_view bytes) {
  return signer.SignToString(absl::StrCat(context, bytes));
}

// OK if `signature` is `verifier_key`'s signature of context || bytes.
// `who` names the signer in the error.
inline absl::Status VerifySigned(absl::string_view verifier_key,
                                 absl::string_view context,
                                 absl::string_view bytes,
                                 absl::string_view signature,
                                 absl::string_view who) {
  auto key = client::ParseVerifierKey(verifier_key);
  if (!key.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the federation manifest has no valid signing key for '", who, "'"));
  }
  if (!client::VerifyEd25519(key->public_key, absl::StrCat(context, bytes),
                             signature)) {
    return absl::UnauthenticatedError(absl::StrCat(
        "signature does not verify under the manifest key of '", who, "'"));
  }
  return absl::OkStatus();
}

}  // namespace haven::server::exchange

#endif  // HAVEN_SERVER_EXCHANGE_SIGNING_H_
