// Fuzz target: the batch signatures of the exchange
// (client/verify/signed_batch.h) over messages parsed from the input, as
// the holder checks a requester's batch and the requester checks the
// holder's answers. The first byte picks what the rest is:
//
//   0 a haven.v1.DiscloseRequest  (requests under kRequestBatchContext)
//   1 a haven.v1.DiscloseResponse (answers under kAnswerBatchContext; each
//     answer is then also checked alone, as a SignedDisclosure)
//   2 a haven.v1.SignedDisclosure (one answer kept as evidence)
//
// Signatures are checked under the fixed trusted key (fuzz_keys.h); the
// seeds hold batches really signed by it. Besides never crashing: a
// signature that verifies under one context must not under the other, and
// one answer of a verified batch checks alone unless its bytes do not parse.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/verify/crypto.h"
#include "client/verify/signed_batch.h"
#include "haven/v1/exchange.pb.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_keys.h"

namespace {

using haven::fuzz::FuzzCheck;

// Answers of one response checked alone, at most: each costs a signature
// check.
constexpr int kMaxAnswersChecked = 8;

const std::string& TrustedKey() {
  static const std::string* key = [] {
    auto signer = haven::fuzz::FixedSigner(haven::fuzz::kTrustedKeyFill);
    return new std::string(
        haven::fuzz::VerifierKey(haven::fuzz::kTrustedKeyName, *signer));
  }();
  return *key;
}

std::vector<std::string> Digests(
    const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::vector<std::string> digests = haven::client::BatchDigests(items);
  FuzzCheck(digests.size() == static_cast<size_t>(items.size()),
            "one digest per item");
  for (const std::string& d : digests) {
    FuzzCheck(d.size() == haven::client::kSha256Size, "digests are SHA-256");
  }
  return digests;
}

// Verifies a batch under `context`; OK only under that context.
absl::Status VerifyBatch(absl::string_view context, absl::string_view other,
                         const std::vector<std::string>& digests,
                         const std::string& signature) {
  absl::Status status = haven::client::VerifyBatchSignature(
      TrustedKey(), context, digests, signature, "fuzz");
  if (status.ok()) {
    FuzzCheck(!haven::client::VerifyBatchSignature(TrustedKey(), other, digests,
                                                   signature, "fuzz")
                   .ok(),
              "a batch signature holds under one context only");
  } else {
    FuzzCheck(absl::IsUnauthenticated(status),
              "a bad batch signature is UNAUTHENTICATED");
  }
  return status;
}

void Requests(const std::string& bytes) {
  haven::v1::DiscloseRequest batch;
  if (!batch.ParseFromString(bytes)) return;
  absl::Status status = VerifyBatch(
      haven::client::kRequestBatchContext, haven::client::kAnswerBatchContext,
      Digests(batch.requests()), batch.signature());
  if (!status.ok()) return;
  // What the holder does next with a batch it trusts.
  for (const std::string& item : batch.requests()) {
    haven::v1::DisclosureRequest request;
    (void)request.ParseFromString(item);
  }
}

void Answers(const std::string& bytes) {
  haven::v1::DiscloseResponse batch;
  if (!batch.ParseFromString(bytes)) return;
  const std::vector<std::string> digests = Digests(batch.answers());
  absl::Status status = VerifyBatch(haven::client::kAnswerBatchContext,
                                    haven::client::kRequestBatchContext,
                                    digests, batch.signature());
  const int n = std::min(batch.answers_size(), kMaxAnswersChecked);
  for (int i = 0; i <= n; ++i) {
    haven::v1::SignedDisclosure one;
    if (i < batch.answers_size()) one.set_answer(batch.answers(i));
    for (const std::string& d : digests) one.add_batch_sha256(d);
    one.set_batch_index(i);
    one.set_signature(batch.signature());
    auto answer =
        haven::client::VerifySignedDisclosure(TrustedKey(), one, "fuzz");
    if (i == batch.answers_size()) {
      FuzzCheck(absl::IsDataLoss(answer.status()),
                "an index past the batch is refused");
    } else if (status.ok()) {
      FuzzCheck(answer.ok() || absl::IsDataLoss(answer.status()),
                "an answer of a verified batch checks alone");
    } else {
      FuzzCheck(!answer.ok(), "an answer of a forged batch does not check");
    }
  }
}

void Evidence(const std::string& bytes) {
  haven::v1::SignedDisclosure one;
  if (!one.ParseFromString(bytes)) return;
  auto answer =
      haven::client::VerifySignedDisclosure(TrustedKey(), one, "fuzz");
  if (!answer.ok()) return;
  // Accepted evidence names a digest of its own answer.
  FuzzCheck(
      one.batch_index() < static_cast<uint32_t>(one.batch_sha256_size()) &&
          one.batch_sha256(static_cast<int>(one.batch_index())) ==
              haven::client::Sha256(one.answer()),
      "accepted evidence is the answer at its place");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  haven::fuzz::QuietProtobufLogs();
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      Requests(rest);
      break;
    case 1:
      Answers(rest);
      break;
    default:
      Evidence(rest);
      break;
  }
  return 0;
}
