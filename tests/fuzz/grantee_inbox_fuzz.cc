// Fuzz target: what a grantee accepts from a holder
// (server/exchange/grantee_inbox.h): handle offers and revocation notices,
// as a peer sends them. Legal-aid's inbox, with its handle store, notice
// board and audit log on an in-memory storage (tests/testing/test_log.h),
// serves many inputs in a row: handles and notices accepted by one input
// stay for the next. It is rebuilt every kInputsPerInbox inputs, as all it
// keeps is in memory. The peer is safe-harbor, whose manifest key is the
// fixed trusted key (fuzz_keys.h).
//
// The first input byte holds flags, the rest is the message:
//
//   0x01  the rest is a NotifyRevocationRequest (else an OfferHandleRequest)
//   0x02  keep the input's signature (otherwise the message is re-signed
//         with the peer's key, so the fuzzer gets past the signature check)
//   0x04  for a notice: first offer its handle (signed), so that the notice
//         is about a handle this node holds
//
// Besides never crashing: only the documented refusals come back (never
// UNAVAILABLE or DATA_LOSS from a storage that does not fail), a message
// signed by the peer is never refused as unsigned, an accepted offer is
// held afterwards, and an accepted notice about a held handle reaches the
// notice board (and forgets the handle when it says it was withdrawn).
//
// As the fixture keeps memory from each input on purpose, deploy/fuzz.sh
// runs this target with -detect_leaks=0: libFuzzer's leak check after each
// input would scan the whole heap every time. Leaks are still reported
// when the run ends.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "haven/v1/exchange.pb.h"
#include "haven/v1/federation.pb.h"
#include "server/exchange/grantee_inbox.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/notice_board.h"
#include "server/exchange/signing.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_keys.h"
#include "tests/testing/test_log.h"

namespace {

using haven::fuzz::FuzzCheck;
using haven::server::exchange::Deterministic;
using haven::server::exchange::kHandleContext;
using haven::server::exchange::kNoticeContext;
using haven::server::exchange::Sign;

constexpr uint8_t kNotice = 0x01;
constexpr uint8_t kKeepSignature = 0x02;
constexpr uint8_t kOfferFirst = 0x04;

// Every accepted message leaves a few KiB in the in-memory storage, log and
// notice board; an inbox that served a whole ten-minute run would outgrow
// libFuzzer's 2 GiB memory limit. Rebuilding costs milliseconds.
constexpr int kInputsPerInbox = 50000;

struct Fixture {
  std::unique_ptr<haven::testing::TestLog> log;
  std::unique_ptr<haven::server::exchange::HandleStore> handles;
  haven::server::exchange::NoticeBoard notices;
  std::unique_ptr<haven::server::exchange::GranteeInbox> inbox;
  std::unique_ptr<haven::server::crypto::Ed25519Signer> peer_signer;
  haven::v1::Member peer;
  size_t published = 0;
};

std::unique_ptr<Fixture> NewFixture() {
  auto f = std::make_unique<Fixture>();
  auto log = haven::testing::TestLog::Create("legal-aid");
  if (!log.ok()) {
    std::fprintf(stderr, "fuzz: cannot build the audit log: %s\n",
                 log.status().ToString().c_str());
    std::abort();
  }
  f->log = *std::move(log);
  f->handles = std::make_unique<haven::server::exchange::HandleStore>(
      &f->log->storage(), &f->log->sealer());
  f->inbox = std::make_unique<haven::server::exchange::GranteeInbox>(
      haven::server::exchange::GranteeInbox::Deps{
          "legal-aid", f->handles.get(), &f->notices, &f->log->recorder()});
  f->peer_signer = haven::fuzz::FixedSigner(haven::fuzz::kTrustedKeyFill);
  f->peer.set_agency_id(haven::fuzz::kTrustedAgency);
  f->peer.set_sector(haven::v1::VICTIM_SERVICES);
  f->peer.set_status(haven::v1::MEMBER_ACTIVE);
  f->peer.set_endpoint("127.0.0.1:1");
  f->peer.set_cert_sha256(std::string(64, 'a'));
  f->peer.set_verifier_key(
      haven::fuzz::VerifierKey(haven::fuzz::kTrustedKeyName, *f->peer_signer));
  return f;
}

// What AcceptHandle and AcceptNotice may answer a peer.
bool IsDocumentedRefusal(const absl::Status& s) {
  return absl::IsUnauthenticated(s) || absl::IsPermissionDenied(s) ||
         absl::IsInvalidArgument(s) || absl::IsResourceExhausted(s);
}

std::optional<haven::v1::SubjectHandle> Held(const Fixture& f,
                                             const std::string& handle) {
  auto held = f.handles->FindReceived(f.peer.agency_id(), handle);
  FuzzCheck(held.ok(), "received handles can be read");
  return *held;
}

void Offer(Fixture& f, haven::v1::OfferHandleRequest request, bool resign) {
  if (resign) {
    request.set_signature(
        Sign(*f.peer_signer, kHandleContext, Deterministic(request.handle())));
  }
  absl::Status s = f.inbox->AcceptHandle(f.peer, request);
  if (!s.ok()) {
    FuzzCheck(IsDocumentedRefusal(s), "an offer gets a documented refusal");
    FuzzCheck(!resign || !absl::IsUnauthenticated(s),
              "an offer signed by the peer is not refused as unsigned");
    return;
  }
  FuzzCheck(Held(f, request.handle().handle()).has_value(),
            "an accepted handle is held");
}

void Notify(Fixture& f, haven::v1::NotifyRevocationRequest request, bool resign,
            bool offer_first) {
  const haven::v1::RevocationNotice& notice = request.notice();
  if (offer_first) {
    haven::v1::OfferHandleRequest offer;
    offer.mutable_handle()->set_handle(notice.handle());
    offer.mutable_handle()->set_holder_agency_id(f.peer.agency_id());
    offer.mutable_handle()->set_grantee_agency_id("legal-aid");
    offer.mutable_handle()->set_issued_unix(f.log->clock().NowUnix());
    Offer(f, offer, /*resign=*/true);
  }
  if (resign) {
    request.set_signature(
        Sign(*f.peer_signer, kNoticeContext, Deterministic(notice)));
  }
  const bool was_held = Held(f, notice.handle()).has_value();
  absl::Status s = f.inbox->AcceptNotice(f.peer, request);
  if (!s.ok()) {
    FuzzCheck(IsDocumentedRefusal(s), "a notice gets a documented refusal");
    FuzzCheck(!resign || !absl::IsUnauthenticated(s),
              "a notice signed by the peer is not refused as unsigned");
    return;
  }
  if (!was_held) return;  // nothing to tell anyone
  auto shown = f.notices.Since(f.published, absl::ZeroDuration());
  FuzzCheck(shown.first == f.published && shown.notices.size() == 1 &&
                shown.notices[0].notice_id() == notice.notice_id(),
            "an accepted notice is shown to local watchers");
  ++f.published;
  FuzzCheck(Held(f, notice.handle()).has_value() != notice.handle_withdrawn(),
            "a notice that withdraws a handle forgets it");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  haven::fuzz::QuietProtobufLogs();
  Fixture& f = haven::fuzz::RecycledFixture(kInputsPerInbox, &NewFixture);
  const uint8_t flags = data[0];
  const bool resign = !(flags & kKeepSignature);
  if (flags & kNotice) {
    haven::v1::NotifyRevocationRequest request;
    if (!request.ParseFromArray(data + 1, static_cast<int>(size - 1))) {
      return 0;
    }
    Notify(f, std::move(request), resign, (flags & kOfferFirst) != 0);
  } else {
    haven::v1::OfferHandleRequest request;
    if (!request.ParseFromArray(data + 1, static_cast<int>(size - 1))) {
      return 0;
    }
    Offer(f, std::move(request), resign);
  }
  return 0;
}
