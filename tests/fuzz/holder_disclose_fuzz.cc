// Fuzz target: the holder's whole decision path (server/exchange/holder.h)
// in process, as a peer's DiscloseRequest reaches it: batch checks, the
// signature, each request's parse, bounds, agency, replay and clock checks,
// handle, policy and consent decision, the commit to the audit log and the
// signed answers. Safe-harbor's holder with real modules on an in-memory
// storage (tests/testing/in_process_holder.h), with one survivor consented
// to legal-aid, the peer, serves many inputs in a row: its fake clock stands
// still, and its replay guard and log keep what earlier inputs did. It is
// rebuilt every kInputsPerHolder inputs, as all it keeps is in memory.
//
// The first input byte holds flags, the rest is a haven.v1.DiscloseRequest:
//
//   0x01  keep the input's signature (otherwise the batch is re-signed with
//         the peer's key, so the fuzzer gets past the signature check)
//   0x02  every request that parses names the survivor's handle (handles
//         are random, so no seed can hold one)
//   0x04  every request that parses gets a fresh id (its own plus a
//         counter), so it is not refused as a replay of an earlier input
//   0x08  every request that parses is sent now, by the holder's clock
//
// Besides never crashing: an answer comes back for every batch the holder
// can trust, with one answer per request in order, under a signature that
// verifies with the holder's key; a refusal is one of the fixed reasons of
// peer_refusal.h; a disclosure is proven in the holder's signed log by an
// entry for that very request, and holds only categories that were asked
// and allowed.
//
// As the fixture keeps memory from each input on purpose, deploy/fuzz.sh
// runs this target with -detect_leaks=0: libFuzzer's leak check after each
// input would scan the whole heap every time. Leaks are still reported
// when the run ends.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/verify/merkle.h"
#include "client/verify/signed_batch.h"
#include "client/verify/signed_note.h"
#include "haven/base/limits.h"
#include "haven/v1/audit.pb.h"
#include "haven/v1/exchange.pb.h"
#include "server/exchange/peer_refusal.h"
#include "server/exchange/requester.h"
#include "server/exchange/signing.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/testing/in_process_holder.h"

namespace {

using haven::fuzz::FuzzCheck;
using haven::server::exchange::PeerRefusal;

constexpr uint8_t kKeepSignature = 0x01;
constexpr uint8_t kUseHandle = 0x02;
constexpr uint8_t kFreshId = 0x04;
constexpr uint8_t kSendNow = 0x08;

// Every input leaves several KiB in the holder's in-memory storage, log
// and replay guard, and commits slow down as that storage's write log
// grows: a holder that served a whole ten-minute run would outgrow
// libFuzzer's 2 GiB memory limit. Rebuilt this often it stays small and
// about three times faster than at 20000, for a few milliseconds a rebuild.
constexpr int kInputsPerHolder = 2000;

struct Fixture {
  std::unique_ptr<haven::testing::InProcessHolder> holder;
  std::string handle;
  haven::client::NoteVerifierKey holder_key;
  uint64_t next_id = 0;
};

std::unique_ptr<Fixture> NewFixture() {
  auto f = std::make_unique<Fixture>();
  auto created = haven::testing::InProcessHolder::Create();
  if (!created.ok()) {
    std::fprintf(stderr, "fuzz: cannot build the holder: %s\n",
                 created.status().ToString().c_str());
    std::abort();
  }
  f->holder = *std::move(created);
  std::string subject;
  FuzzCheck(
      f->holder->AddConsentedSurvivor("555-0100", &subject, &f->handle).ok(),
      "the survivor is recorded");
  auto key = haven::client::ParseVerifierKey(
      f->holder->holder_member().verifier_key());
  FuzzCheck(key.ok(), "the holder's verifier key parses");
  f->holder_key = *std::move(key);
  return f;
}

bool IsPeerRefusal(const haven::v1::RequestRefusal& refusal) {
  for (PeerRefusal r :
       {PeerRefusal::kMalformed, PeerRefusal::kWrongAgency, PeerRefusal::kStale,
        PeerRefusal::kReplay, PeerRefusal::kUnknownHandle,
        PeerRefusal::kNoPolicy, PeerRefusal::kConsentChanged,
        PeerRefusal::kHolderUnavailable, PeerRefusal::kBadSignature}) {
    absl::Status s = haven::server::exchange::PeerRefusalStatus(r);
    if (refusal.code() == static_cast<int>(s.code()) &&
        refusal.message() == s.message()) {
      return true;
    }
  }
  return false;
}

// The requester's checks of a disclosure (requester.cc VerifyDisclosure),
// and that only asked and allowed categories left.
void CheckDisclosure(const Fixture& f,
                     const haven::v1::DisclosureAnswer& answer,
                     const haven::v1::DisclosureRequest& request) {
  const haven::v1::Disclosure& d = answer.disclosure();
  FuzzCheck(d.request_id() == request.request_id() &&
                d.holder_agency_id() == "safe-harbor" &&
                d.requester_agency_id() == "legal-aid",
            "a disclosure names its request and both agencies");
  auto checkpoint = haven::client::VerifyCheckpoint(
      d.checkpoint().note(), f.holder_key,
      haven::client::LogOrigin("safe-harbor"));
  FuzzCheck(checkpoint.ok(), "a disclosure's checkpoint verifies");
  const haven::v1::InclusionProof& proof = d.inclusion_proof();
  FuzzCheck(proof.leaf_index() == d.audit_index() &&
                proof.tree_size() == checkpoint->tree_size,
            "a disclosure's proof is for its entry and checkpoint");
  FuzzCheck(haven::client::VerifyInclusion(
                proof.leaf_index(), proof.tree_size(),
                haven::client::HashLeaf(d.audit_leaf()),
                std::vector<std::string>(proof.hashes().begin(),
                                         proof.hashes().end()),
                checkpoint->root_hash)
                .ok(),
            "a disclosure's entry is in the holder's log");
  std::set<int> asked(request.categories().begin(), request.categories().end());
  std::set<int> allowed;
  for (const auto& c : d.decision().categories()) {
    if (c.allowed()) allowed.insert(c.category());
  }
  // A decision that allows nothing is answered with its reasons but logged
  // as the refusal it is.
  haven::v1::AuditEntry entry;
  FuzzCheck(entry.ParseFromString(d.audit_leaf()) &&
                entry.request_id() == request.request_id() &&
                entry.kind() == (allowed.empty() ? haven::v1::REQUEST_REFUSED
                                                 : haven::v1::DISCLOSURE),
            "a disclosure's entry records it");
  for (const auto& field : d.fields()) {
    FuzzCheck(asked.count(field.category()) && allowed.count(field.category()),
              "only asked and allowed categories leave");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  haven::fuzz::QuietProtobufLogs();
  Fixture& f = haven::fuzz::RecycledFixture(kInputsPerHolder, &NewFixture);
  const uint8_t flags = data[0];
  haven::v1::DiscloseRequest batch;
  if (!batch.ParseFromArray(data + 1, static_cast<int>(size - 1))) return 0;

  if (flags & (kUseHandle | kFreshId | kSendNow)) {
    for (std::string& bytes : *batch.mutable_requests()) {
      haven::v1::DisclosureRequest request;
      if (!request.ParseFromString(bytes)) continue;
      if (flags & kUseHandle) request.set_handle(f.handle);
      if (flags & kFreshId) {
        request.set_request_id(
            absl::StrCat(request.request_id(), ".", f.next_id++));
      }
      if (flags & kSendNow) {
        request.set_sent_unix(f.holder->clock().NowUnix());
      }
      bytes = haven::server::exchange::Deterministic(request);
    }
  }
  if (!(flags & kKeepSignature)) {
    batch.set_signature(haven::server::exchange::SignBatch(
        f.holder->peer_signer(), haven::client::kRequestBatchContext,
        batch.requests()));
  }

  auto response = f.holder->holder().Disclose(f.holder->peer_member(), batch);
  if (!response.ok()) {
    FuzzCheck(absl::IsUnauthenticated(response.status()) ||
                  absl::IsInvalidArgument(response.status()),
              "a whole batch is only refused as untrusted");
    bool well_formed = batch.requests_size() > 0 &&
                       batch.requests_size() <= haven::client::kMaxRequestBatch;
    for (const std::string& bytes : batch.requests()) {
      well_formed &= bytes.size() <= haven::limits::kMaxRequestBytes;
    }
    FuzzCheck(!well_formed || (flags & kKeepSignature),
              "a well-formed batch signed by the peer is answered");
    return 0;
  }

  FuzzCheck(haven::client::VerifyBatchSignature(
                f.holder->holder_member().verifier_key(),
                haven::client::kAnswerBatchContext,
                haven::client::BatchDigests(response->answers()),
                response->signature(), "safe-harbor")
                .ok(),
            "the holder's answers verify under its key");
  FuzzCheck(response->answers_size() == batch.requests_size(),
            "one answer per request");
  for (int i = 0; i < response->answers_size(); ++i) {
    haven::v1::DisclosureAnswer answer;
    FuzzCheck(answer.ParseFromString(response->answers(i)), "an answer parses");
    haven::v1::DisclosureRequest request;
    const bool parsed = request.ParseFromString(batch.requests(i));
    const bool id_kept = parsed && request.request_id().size() <=
                                       haven::limits::kMaxRequestIdChars;
    FuzzCheck(answer.request_id() == (id_kept ? request.request_id() : ""),
              "answers come in the order of the requests");
    if (answer.has_refusal()) {
      FuzzCheck(IsPeerRefusal(answer.refusal()),
                "a refusal is one of the fixed reasons");
    } else {
      FuzzCheck(answer.has_disclosure() && parsed,
                "an answer is a refusal or a disclosure");
      CheckDisclosure(f, answer, request);
    }
  }
  return 0;
}
