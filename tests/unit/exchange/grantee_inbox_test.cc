#include "server/exchange/grantee_inbox.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/verify/signed_note.h"
#include "gmock/gmock.h"
#include "google/protobuf/unknown_field_set.h"
#include "gtest/gtest.h"
#include "haven/base/limits.h"
#include "server/crypto/ed25519_signer.h"
#include "server/crypto/secret_bytes.h"
#include "server/exchange/handle_store.h"
#include "server/exchange/notice_board.h"
#include "server/exchange/signing.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_log.h"

namespace haven::server::exchange {
namespace {

using ::haven::testing::IsOk;
using ::haven::testing::StatusIs;
using ::testing::SizeIs;

constexpr char kGrantee[] = "legal-aid";

// A 32-hex-character handle, different for each `i`.
std::string HandleHex(int i) { return absl::StrFormat("%032x", i); }

// Adds `bytes` as an unknown length-delimited field: what a peer can send
// that this node's proto does not name, and that a signature still covers.
void AddUnknown(google::protobuf::Message* message, size_t bytes) {
  message->GetReflection()->MutableUnknownFields(message)->AddLengthDelimited(
      1000, std::string(bytes, 'x'));
}

// A holder agency: its manifest entry and the key it signs with.
struct Peer {
  haven::v1::Member member;
  std::unique_ptr<crypto::Ed25519Signer> signer;
};

Peer MakePeer(const std::string& agency, uint8_t fill) {
  Peer peer;
  crypto::SecretBytes seed(crypto::Ed25519Signer::kSeedSize);
  for (size_t i = 0; i < seed.size(); ++i) seed.mutable_data()[i] = fill;
  peer.signer = *crypto::Ed25519Signer::FromSeed(seed);
  peer.member.set_agency_id(agency);
  peer.member.set_sector(haven::v1::VICTIM_SERVICES);
  peer.member.set_status(haven::v1::MEMBER_ACTIVE);
  peer.member.set_endpoint("127.0.0.1:1");
  peer.member.set_cert_sha256(std::string(64, 'a' + fill % 6));
  peer.member.set_verifier_key(
      *client::FormatVerifierKey(absl::StrCat(agency, ".haven/log"),
                                 std::string(peer.signer->public_key().begin(),
                                             peer.signer->public_key().end())));
  return peer;
}

class GranteeInboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = haven::testing::TestLog::Create(kGrantee);
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    handles_ = std::make_unique<HandleStore>(&log_->storage(), &log_->sealer());
    MakeInbox(limits::kMaxHandlesPerHolder);
  }

  void MakeInbox(size_t max_handles_per_holder) {
    GranteeInbox::Deps deps;
    deps.agency_id = kGrantee;
    deps.handles = handles_.get();
    deps.notices = &notices_;
    deps.audit = &log_->recorder();
    deps.max_handles_per_holder = max_handles_per_holder;
    inbox_ = std::make_unique<GranteeInbox>(std::move(deps));
  }

  // An offer of `handle` from `peer`, signed by it.
  static haven::v1::OfferHandleRequest Offer(const Peer& peer,
                                             const std::string& handle) {
    haven::v1::OfferHandleRequest request;
    haven::v1::SubjectHandle* h = request.mutable_handle();
    h->set_handle(handle);
    h->set_holder_agency_id(peer.member.agency_id());
    h->set_grantee_agency_id(kGrantee);
    h->set_issued_unix(haven::testing::TestLog::kNow);
    return request;
  }
  static void SignOffer(const Peer& peer,
                        haven::v1::OfferHandleRequest* request) {
    request->set_signature(
        Sign(*peer.signer, kHandleContext, Deterministic(request->handle())));
  }

  // A notice from `peer` that the consent covering `handle` was revoked.
  static haven::v1::NotifyRevocationRequest Notice(const Peer& peer,
                                                   const std::string& handle,
                                                   bool withdrawn) {
    haven::v1::NotifyRevocationRequest request;
    haven::v1::RevocationNotice* n = request.mutable_notice();
    n->set_notice_id(absl::StrCat(HandleHex(7), "/revoked/1"));
    n->set_holder_agency_id(peer.member.agency_id());
    n->set_handle(handle);
    n->set_consent_id(HandleHex(7));
    n->set_change("revoked");
    n->set_effective_unix(haven::testing::TestLog::kNow);
    n->set_handle_withdrawn(withdrawn);
    return request;
  }
  static void SignNotice(const Peer& peer,
                         haven::v1::NotifyRevocationRequest* request) {
    request->set_signature(
        Sign(*peer.signer, kNoticeContext, Deterministic(request->notice())));
  }

  absl::Status AcceptOffer(const Peer& peer, const std::string& handle) {
    haven::v1::OfferHandleRequest request = Offer(peer, handle);
    SignOffer(peer, &request);
    return inbox_->AcceptHandle(peer.member, request);
  }

  bool Held(const Peer& peer, const std::string& handle) {
    auto held = handles_->FindReceived(peer.member.agency_id(), handle);
    EXPECT_THAT(held, IsOk());
    return held.ok() && held->has_value();
  }

  std::vector<std::string> ExchangeKeys() {
    return log_->storage().Keys(storage::Family::kExchange);
  }

  std::unique_ptr<haven::testing::TestLog> log_;
  std::unique_ptr<HandleStore> handles_;
  NoticeBoard notices_;
  std::unique_ptr<GranteeInbox> inbox_;
  Peer safe_harbor_ = MakePeer("safe-harbor", 1);
  Peer clinic_ = MakePeer("clinic", 2);
};

TEST_F(GranteeInboxTest, WellFormedOfferAndNoticeAreAcceptedAndLogged) {
  const uint64_t before = log_->log().Size();
  ASSERT_THAT(AcceptOffer(safe_harbor_, HandleHex(1)), IsOk());
  EXPECT_TRUE(Held(safe_harbor_, HandleHex(1)));
  EXPECT_EQ(log_->log().Size(), before + 1);

  haven::v1::NotifyRevocationRequest notice =
      Notice(safe_harbor_, HandleHex(1), /*withdrawn=*/true);
  SignNotice(safe_harbor_, &notice);
  ASSERT_THAT(inbox_->AcceptNotice(safe_harbor_.member, notice), IsOk());
  EXPECT_FALSE(Held(safe_harbor_, HandleHex(1)));
  EXPECT_EQ(log_->log().Size(), before + 2);
  NoticeBoard::Page shown = notices_.Since(0, absl::ZeroDuration());
  ASSERT_THAT(shown.notices, SizeIs(1));
  EXPECT_EQ(shown.notices[0].notice_id(), notice.notice().notice_id());
}

TEST_F(GranteeInboxTest, OffersBeyondTheHoldersLimitAreRefusedAndStoreNothing) {
  MakeInbox(/*max_handles_per_holder=*/2);
  ASSERT_THAT(AcceptOffer(safe_harbor_, HandleHex(1)), IsOk());
  ASSERT_THAT(AcceptOffer(safe_harbor_, HandleHex(2)), IsOk());
  const uint64_t size = log_->log().Size();
  const std::vector<std::string> keys = ExchangeKeys();

  EXPECT_THAT(AcceptOffer(safe_harbor_, HandleHex(3)),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_FALSE(Held(safe_harbor_, HandleHex(3)));
  EXPECT_EQ(log_->log().Size(), size);
  EXPECT_EQ(ExchangeKeys(), keys);

  // A repeat of an offer already held is still fine (holders deliver at
  // least once), and adds nothing.
  EXPECT_THAT(AcceptOffer(safe_harbor_, HandleHex(2)), IsOk());
  EXPECT_EQ(log_->log().Size(), size);

  // The limit is per holder: another holder's offers are not counted.
  EXPECT_THAT(AcceptOffer(clinic_, HandleHex(3)), IsOk());
  EXPECT_TRUE(Held(clinic_, HandleHex(3)));

  // A withdrawn handle makes room again.
  haven::v1::NotifyRevocationRequest notice =
      Notice(safe_harbor_, HandleHex(1), /*withdrawn=*/true);
  SignNotice(safe_harbor_, &notice);
  ASSERT_THAT(inbox_->AcceptNotice(safe_harbor_.member, notice), IsOk());
  EXPECT_THAT(AcceptOffer(safe_harbor_, HandleHex(3)), IsOk());
  EXPECT_EQ(handles_->CountReceived("safe-harbor").value(), 2u);
}

// Each case makes one field (or the message as a whole) larger than its
// limit in proto/haven/base/limits.h; the holder signs the result, so the
// refusal cannot be a signature failure.
struct OversizedOffer {
  std::string name;
  std::function<void(haven::v1::OfferHandleRequest*)> grow;
  bool sign_after = true;
};
struct OversizedNotice {
  std::string name;
  std::function<void(haven::v1::NotifyRevocationRequest*)> grow;
  bool sign_after = true;
};

TEST_F(GranteeInboxTest, OversizedFieldsAreRefusedAndStoreNothing) {
  const std::string big(3 << 20, 'a');
  const std::vector<OversizedOffer> offers = {
      {"handle", [&](auto* r) { r->mutable_handle()->set_handle(big); }},
      {"holder agency id",
       [&](auto* r) { r->mutable_handle()->set_holder_agency_id(big); }},
      {"grantee agency id",
       [&](auto* r) { r->mutable_handle()->set_grantee_agency_id(big); }},
      {"unknown field in the handle",
       [&](auto* r) { AddUnknown(r->mutable_handle(), 5 << 19); }},
      {"unknown field in the request", [&](auto* r) { AddUnknown(r, 5 << 19); },
       /*sign_after=*/false},
      {"signature", [&](auto* r) { r->set_signature(r->signature() + big); },
       /*sign_after=*/false},
  };
  const std::vector<OversizedNotice> notices = {
      {"notice id", [&](auto* r) { r->mutable_notice()->set_notice_id(big); }},
      {"holder agency id",
       [&](auto* r) { r->mutable_notice()->set_holder_agency_id(big); }},
      {"handle", [&](auto* r) { r->mutable_notice()->set_handle(big); }},
      {"consent id",
       [&](auto* r) { r->mutable_notice()->set_consent_id(big); }},
      {"change", [&](auto* r) { r->mutable_notice()->set_change(big); }},
      {"unknown field in the notice",
       [&](auto* r) { AddUnknown(r->mutable_notice(), 3 << 20); }},
      {"unknown field in the request", [&](auto* r) { AddUnknown(r, 3 << 20); },
       /*sign_after=*/false},
      {"signature", [&](auto* r) { r->set_signature(r->signature() + big); },
       /*sign_after=*/false},
  };

  // A held handle, so that a notice about it would be logged and shown.
  ASSERT_THAT(AcceptOffer(safe_harbor_, HandleHex(1)), IsOk());
  const uint64_t size = log_->log().Size();
  const std::vector<std::string> keys = ExchangeKeys();

  for (const OversizedOffer& c : offers) {
    SCOPED_TRACE(absl::StrCat("offer: ", c.name));
    haven::v1::OfferHandleRequest request = Offer(safe_harbor_, HandleHex(2));
    SignOffer(safe_harbor_, &request);
    c.grow(&request);
    if (c.sign_after) SignOffer(safe_harbor_, &request);
    EXPECT_THAT(inbox_->AcceptHandle(safe_harbor_.member, request),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  for (const OversizedNotice& c : notices) {
    SCOPED_TRACE(absl::StrCat("notice: ", c.name));
    haven::v1::NotifyRevocationRequest request =
        Notice(safe_harbor_, HandleHex(1), /*withdrawn=*/true);
    SignNotice(safe_harbor_, &request);
    c.grow(&request);
    if (c.sign_after) SignNotice(safe_harbor_, &request);
    EXPECT_THAT(inbox_->AcceptNotice(safe_harbor_.member, request),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }

  EXPECT_EQ(log_->log().Size(), size);
  EXPECT_EQ(ExchangeKeys(), keys);
  EXPECT_TRUE(Held(safe_harbor_, HandleHex(1)));
  EXPECT_FALSE(Held(safe_harbor_, HandleHex(2)));
  // (Its size: a failure would print megabytes.)
  EXPECT_EQ(notices_.Since(0, absl::ZeroDuration()).notices.size(), 0u);
}

// The limits leave room for every field at its largest.
TEST_F(GranteeInboxTest, OfferAndNoticeAtTheirLimitsAreAccepted) {
  Peer long_named = MakePeer(std::string(limits::kMaxAgencyIdBytes, 'p'), 3);
  ASSERT_THAT(AcceptOffer(long_named, HandleHex(1)), IsOk());
  haven::v1::NotifyRevocationRequest notice =
      Notice(long_named, HandleHex(1), /*withdrawn=*/false);
  notice.mutable_notice()->set_notice_id(
      std::string(limits::kMaxNoticeIdBytes, 'n'));
  notice.mutable_notice()->set_change("withdrawn");
  notice.mutable_notice()->set_effective_unix(INT64_MIN);
  SignNotice(long_named, &notice);
  EXPECT_THAT(inbox_->AcceptNotice(long_named.member, notice), IsOk());
}

}  // namespace
}  // namespace haven::server::exchange
